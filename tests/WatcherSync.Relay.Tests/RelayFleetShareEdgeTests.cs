using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.InMemory;
using WatcherSync.Relay.Server;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// Rebalancing from the fleet's size at its edges: a source that blocks its thread, the documented share formula, the
/// refused sizes' parameter names, a clock that jumps hours, a share arriving between two shed rounds, and intervals
/// shorter than a timer can keep.
/// </summary>
public sealed class RelayFleetShareEdgeTests
{
    [Fact]
    public async Task ASourceThatBlocksItsThreadUntilCancelled_DoesNotHoldTheRelaysStop()
    {
        await using var store = new InMemoryBackend();
        using var release = new ManualResetEventSlim();
        int asked = 0;
        TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store, options =>
        {
            options.FleetSizeSource = cancellation =>
            {
                // A synchronous registry client (a blocking call given the token): it returns as soon as it is cancelled.
                Interlocked.Increment(ref asked);
                WaitHandle.WaitAny([cancellation.WaitHandle, release.WaitHandle]);
                cancellation.ThrowIfCancellationRequested();
                return ValueTask.FromResult(new RelayFleetSize(1, 1));
            };
        }));
        Task? stopping = null;
        try
        {
            await Eventually.True(() => Volatile.Read(ref asked) == 1, "asked when the relay starts");
            stopping = relay.DisposeAsync().AsTask();
            Func<Task> stop = () => stopping.WaitAsync(TimeSpan.FromSeconds(20));
            await stop.Should().NotThrowAsync("the stop cancels the question out, which ends the source's call (docs: a source that hangs does not hold the relay's stop)");
        }
        finally
        {
            release.Set();
            await (stopping ?? relay.DisposeAsync().AsTask());
        }
    }

    [Theory]
    [InlineData(1, 50, 55)]
    [InlineData(5, 50, 11)]
    [InlineData(9, 90, 11)]
    public async Task SetFleetSize_TheShareIsTheDocumentedCeiling_NotOneMoreFromRoundingError(int relays, int clients, int share)
    {
        await using var store = new InMemoryBackend();
        await using TestRelay relay = await Relays.InSyncAsync(store, new FakeTimeProvider(), options =>
        {
            options.FleetSlack = 0.1;
            options.MinFleetShare = 1;
        });

        relay.Control.SetFleetSize(relays, clients).Should().Be(share, $"the docs' share is ⌈clients × (1 + FleetSlack) / relays⌉ = ⌈{clients} × 1.1 / {relays}⌉ = {share}");
    }

    [Fact]
    public async Task SetFleetSize_ARefusedSize_NamesTheParameterThatIsWrong()
    {
        await using var store = new InMemoryBackend();
        await using TestRelay relay = await Relays.InSyncAsync(store, new FakeTimeProvider(), _ => { });

        relay.Control.Invoking(c => c.SetFleetSize(0, 10)).Should().Throw<ArgumentOutOfRangeException>()
            .Which.ParamName.Should().Be("relays", "SetFleetSize(int relays, int clients) documents the exception for its parameter relays");
        relay.Control.Invoking(c => c.SetFleetSize(1, -1)).Should().Throw<ArgumentOutOfRangeException>()
            .Which.ParamName.Should().Be("clients", "SetFleetSize(int relays, int clients) documents the exception for its parameter clients");
    }

    [Fact]
    public async Task AClockJumpOfAnHour_AsksTheSourceOnce_NotOncePerMissedInterval()
    {
        await using var store = new InMemoryBackend();
        var time = new FakeTimeProvider();
        int asked = 0;
        await using TestRelay relay = await Relays.InSyncAsync(store, time, options =>
        {
            options.MinFleetShare = 1;
            options.FleetSizeInterval = TimeSpan.FromSeconds(10);
            options.FleetSizeSource = _ =>
            {
                // A registry client that answers from its cache, at once.
                Interlocked.Increment(ref asked);
                return ValueTask.FromResult(new RelayFleetSize(2, 100));
            };
        });
        await Eventually.True(() => Volatile.Read(ref asked) == 1, "asked when the relay starts");

        // The process was frozen (SIGSTOP) or the host slept for an hour: the clock jumps.
        time.Advance(TimeSpan.FromHours(1));

        Volatile.Read(ref asked).Should().BeLessThanOrEqualTo(2, "a clock jump of an hour is one late question, not one per missed interval (360 calls to the registry at once)");
    }

    [Fact]
    public async Task AFleetShareSetBetweenTwoShedRounds_TheNextRound_DoesNotMoveASecondBatchWithinTheShedInterval()
    {
        await using var store = new InMemoryBackend();
        await RelayFleetBalanceTests.FillAsync(store);
        var time = new FakeTimeProvider();
        await using TestRelay relay = await Relays.InSyncAsync(store, time, options =>
        {
            options.ShedInterval = TimeSpan.FromSeconds(10);
            options.ShedBatchSize = 1;
            options.FleetSlack = 0;
            options.MinFleetShare = 1;
        });
        List<RawCalls.HeldCall> clients = await RelayFleetBalanceEdgeTests.IdleClientsAsync(relay, 6);
        try
        {
            using var moved = new RelayCounter(relay, "watchersync.relay.clients_cut_off");

            // Half-way between two shed rounds, the fleet's size arrives (from the source's timer or a controller).
            time.Advance(TimeSpan.FromSeconds(5));
            relay.Control.SetFleetSize(1, 4).Should().Be(4);
            await Eventually.True(() => moved.Count("shed") == 1 && RelayFleetBalanceEdgeTests.Settled(relay), "the first excess is moved at once");

            // Five seconds later, the shed timer's round.
            time.Advance(TimeSpan.FromSeconds(5));
            await Eventually.True(() => RelayFleetBalanceEdgeTests.Settled(relay), "the clients asked to move have left");
            moved.Count("shed").Should().Be(1, "at most ShedBatchSize (1) client is moved per ShedInterval (10 s); the round 5 s after the first move must wait");
        }
        finally
        {
            clients.ForEach(static c => c.Dispose());
        }
    }

    [Theory]
    [InlineData(nameof(RelayServerOptions.FleetSizeInterval))]
    [InlineData(nameof(RelayServerOptions.ShedInterval))]
    public void AnIntervalUnderAMillisecond_IsRefusedWithItsName(string option)
    {
        // A system timer's period is in whole milliseconds: 0.5 ms rounds down to 0, a one-shot timer, so the source was
        // asked once, and a relay over its share moved one client and no more.
        var options = new RelayServerOptions { AllowAnonymous = true };
        options.Feeds.Add(new RelayFeedOptions { Name = "default", Backend = new InMemoryBackend() });
        options.Feeds[0].ResourceTypes.Add(Relays.Types[0]);
        typeof(RelayServerOptions).GetProperty(option)!.SetValue(options, TimeSpan.FromMilliseconds(0.5));

        Action validate = options.Validate;

        validate.Should().Throw<InvalidOperationException>().Which.Message.Should().Be($"{option} must be at least 1 ms (a timer's period is in whole milliseconds); it is 00:00:00.0005000.");
    }
}
