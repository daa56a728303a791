using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.InMemory;
using WatcherSync.Relay.Server;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// Rebalancing from the fleet's size: a relay told how many relays and clients its pool has holds its share of the
/// clients, ⌈clients × (1 + slack) / relays⌉, moves the excess away paced (the moved clients resume on the other
/// relays), and never holds more than the operator's limit. A source of the fleet's size is asked on a timer.
/// </summary>
public sealed class RelayFleetShareTests
{
    private static readonly string[] Watched = [Relays.Prefixes[0]];

    [Theory]
    [InlineData(2, 1000, 0.2, 100, 600)]
    [InlineData(3, 1000, 0.2, 100, 400)]
    [InlineData(3, 1001, 0.0, 1, 334)]
    [InlineData(1, 0, 0.2, 100, 100)]
    [InlineData(40, 1000, 0.2, 100, 100)]
    [InlineData(1, int.MaxValue, 0.2, 100, int.MaxValue)]
    public void Share_IsTheClientsOverTheRelaysWithSlack_RoundedUp_AtLeastTheMinimum(int relays, int clients, double slack, int minimum, int share) =>
        ConnectionLimit.ShareOf(new RelayFleetSize(relays, clients), slack, minimum).Should().Be(share);

    [Fact]
    public async Task AFleetSizeThatMakesThisRelayHoldTooMany_MovesItsExcessAwayPaced_AndTheMovedClientsResumeOnTheOtherRelay()
    {
        await using var store = new InMemoryBackend();
        await RelayFleetBalanceTests.FillAsync(store);
        var time = new FakeTimeProvider();
        await using TestRelay a = await Relays.InSyncAsync(store, time, options =>
        {
            options.ShedBatchSize = 3;
            options.MinFleetShare = 1;
        });
        await using TestRelay b = await TestRelay.StartAsync(Relays.Feed(store));
        await using RelayFleetBalanceTests.Fleet fleet = await RelayFleetBalanceTests.FleetOnAsync(a, b, store, 20);
        using var moved = new RelayCounter(a, "watchersync.relay.clients_cut_off");

        a.Control.FleetShare.Should().BeNull("no fleet size is known yet");
        a.Control.SetFleetSize(2, 20).Should().Be(12, "⌈20 × 1.2 / 2⌉");
        a.Control.FleetShare.Should().Be(12);
        a.Control.MaxConnections.Should().Be(12, "the share is lower than the operator's limit");

        for (int expected = 17; ; expected = Math.Max(12, expected - 3))
        {
            await Eventually.True(() => a.Host.Connections.Count == expected, $"the relay is down to {expected} clients");
            moved.Count("shed").Should().Be(20 - expected, "at most ShedBatchSize clients are moved per ShedInterval");
            if (expected == 12)
            {
                break;
            }

            time.Advance(TimeSpan.FromSeconds(1));
        }

        await Eventually.True(() => b.Host.Connections.Count == 8, "the clients moved away are on the other relay");
        KVPair written = await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 4242)), "after the rebalance"));
        await RelayFleetBalanceTests.BothHaveAsync(a, b, long.Parse(written.Revision!, System.Globalization.CultureInfo.InvariantCulture));
        foreach ((RecordingCallbacks callbacks, int i) in fleet.Callbacks.Select((c, i) => (c, i)))
        {
            await Relays.ConvergedAsync(callbacks, store, $"client {i}", prefixes: Watched);
        }

        fleet.Callbacks.SelectMany(c => c.Violations).Should().BeEmpty();
        fleet.Syncers.Sum(s => s.Resyncs).Should().Be(20, "each client took one snapshot, its first: the moved ones resumed");
    }

    [Fact]
    public async Task TheOperatorsLimit_IsNeverOverruledByTheFleet_TheLowerOfTheTwoIsInForce()
    {
        await using var store = new InMemoryBackend();
        await using TestRelay relay = await Relays.InSyncAsync(store, new FakeTimeProvider(), options =>
        {
            options.MaxConnections = 50;
            options.MinFleetShare = 1;
        });

        relay.Control.SetFleetSize(1, 1000).Should().Be(1200);
        relay.Control.MaxConnections.Should().Be(50, "a share never raises the limit above the configured one");
        relay.Control.SetMaxConnections(0);
        relay.Control.SetFleetSize(2, 10).Should().Be(6);
        relay.Control.MaxConnections.Should().Be(0, "a relay taken out of rotation stays out, whatever the fleet says");
        relay.Control.SetMaxConnections(40);
        relay.Control.MaxConnections.Should().Be(6, "back in rotation, the share is the lower");
        relay.Control.Invoking(c => c.SetFleetSize(0, 10)).Should().Throw<ArgumentOutOfRangeException>();
        relay.Control.Invoking(c => c.SetFleetSize(1, -1)).Should().Throw<ArgumentOutOfRangeException>();
        relay.Control.MaxConnections.Should().Be(6, "a refused size changes nothing");
    }

    [Fact]
    public async Task TheFleetSizeSource_IsAskedAtStartAndEveryInterval_AFailureKeepsTheShare_AndAnAnswerAfterItApplies()
    {
        await using var store = new InMemoryBackend();
        var time = new FakeTimeProvider();
        var answers = new Queue<Func<RelayFleetSize>>();
        answers.Enqueue(() => new RelayFleetSize(1, 200));
        answers.Enqueue(() => new RelayFleetSize(4, 200));
        answers.Enqueue(() => throw new InvalidOperationException("the registry is down"));
        answers.Enqueue(() => new RelayFleetSize(0, 200));
        answers.Enqueue(() => new RelayFleetSize(2, 200));
        int asked = 0;
        await using TestRelay relay = await Relays.InSyncAsync(store, time, options =>
        {
            options.MinFleetShare = 1;
            options.FleetSizeInterval = TimeSpan.FromSeconds(10);
            options.FleetSizeSource = _ =>
            {
                Interlocked.Increment(ref asked);
                lock (answers)
                {
                    return ValueTask.FromResult(answers.Dequeue()());
                }
            };
        });

        await Eventually.True(() => relay.Control.FleetShare == 240, "asked when the relay starts: ⌈200 × 1.2 / 1⌉");
        time.Advance(TimeSpan.FromSeconds(9));
        Volatile.Read(ref asked).Should().Be(1, "not asked again before the interval");
        time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.True(() => relay.Control.FleetShare == 60, "asked again after the interval: ⌈200 × 1.2 / 4⌉");
        time.Advance(TimeSpan.FromSeconds(10));
        await Eventually.True(() => Volatile.Read(ref asked) == 3, "asked a third time");
        time.Advance(TimeSpan.FromSeconds(10));
        await Eventually.True(() => Volatile.Read(ref asked) == 4, "asked a fourth time");
        relay.Control.FleetShare.Should().Be(60, "neither a failure nor a size that is not one (0 relays) changes the share");
        relay.Control.MaxConnections.Should().Be(60);
        time.Advance(TimeSpan.FromSeconds(10));
        await Eventually.True(() => relay.Control.FleetShare == 120, "the next answer applies");
    }

    [Fact]
    public async Task ASourceThatHangs_IsAskedOnceWhileItHangs_AndDoesNotHoldTheRelaysStop()
    {
        await using var store = new InMemoryBackend();
        var time = new FakeTimeProvider();
        var never = new TaskCompletionSource<RelayFleetSize>(TaskCreationOptions.RunContinuationsAsynchronously);
        int asked = 0;
        TestRelay relay = await Relays.InSyncAsync(store, time, options =>
        {
            options.FleetSizeInterval = TimeSpan.FromSeconds(1);
            options.FleetSizeSource = _ =>
            {
                Interlocked.Increment(ref asked);
                return new ValueTask<RelayFleetSize>(never.Task);
            };
        });

        await Eventually.True(() => Volatile.Read(ref asked) == 1, "asked when the relay starts");
        for (int i = 0; i < 5; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Volatile.Read(ref asked).Should().Be(1, "a question still out is not asked again: calls do not pile up");
        ConnectionLimit limit = relay.Host.Limit;
        Func<Task> stop = () => relay.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        await stop.Should().NotThrowAsync("a source that ignores cancellation does not hold the stop");
        never.SetResult(new RelayFleetSize(1, 1));
        limit.Share.Should().BeNull("an answer after the stop is ignored");
    }

    [Theory]
    [InlineData(nameof(RelayServerOptions.FleetSlack), double.NaN, "FleetSlack must be a finite number from 0 to 100; it is NaN.")]
    [InlineData(nameof(RelayServerOptions.FleetSlack), -0.5, "FleetSlack must be a finite number from 0 to 100; it is -0.5.")]
    [InlineData(nameof(RelayServerOptions.FleetSlack), 1e300, "FleetSlack must be a finite number from 0 to 100; it is 1E+300.")]
    [InlineData(nameof(RelayServerOptions.MinFleetShare), 0, "MinFleetShare must be at least 1; it is 0.")]
    [InlineData(nameof(RelayServerOptions.FleetSizeInterval), 0, "FleetSizeInterval must be positive; it is 00:00:00.")]
    [InlineData(nameof(RelayServerOptions.FleetSizeInterval), 60 * 24 * 365, "FleetSizeInterval must be at most")]
    public void FleetOptions_OutOfRange_AreRefusedWithTheirName(string option, double value, string message)
    {
        var options = new RelayServerOptions { AllowAnonymous = true };
        options.Feeds.Add(new RelayFeedOptions { Name = "default", Backend = new InMemoryBackend() });
        options.Feeds[0].ResourceTypes.Add(Relays.Types[0]);
        System.Reflection.PropertyInfo property = typeof(RelayServerOptions).GetProperty(option)!;
        property.SetValue(options, property.PropertyType == typeof(TimeSpan) ? TimeSpan.FromMinutes(value) : property.PropertyType == typeof(int) ? (object)(int)value : value);

        Action validate = options.Validate;

        validate.Should().Throw<InvalidOperationException>().Which.Message.Should().StartWith(message);
    }
}
