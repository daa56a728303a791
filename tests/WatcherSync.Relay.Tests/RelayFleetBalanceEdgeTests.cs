using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.InMemory;
using WatcherSync.Relay.Server;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>Fleet balance at its edges: limits set again and again, extreme drain times and intervals, a full relay under a reconnect storm.</summary>
public sealed class RelayFleetBalanceEdgeTests
{
    [Fact]
    public async Task GracefulStop_ShedIntervalLongerThanTheDrainTime_StillEndsAtTheEndOfTheDrainTime()
    {
        await using var store = new InMemoryBackend();
        await RelayFleetBalanceTests.FillAsync(store);
        var time = new FakeTimeProvider();

        // Shedding paced slowly (one batch a minute) and a short drain: the drain's end must not wait for a shed tick.
        await using TestRelay relay = await Relays.InSyncAsync(store, time, options =>
        {
            options.ShedInterval = TimeSpan.FromMinutes(1);
            options.ShutdownDrainTime = TimeSpan.FromSeconds(10);
            options.PingTimeout = TimeSpan.FromMinutes(5);
            options.WriteTimeout = TimeSpan.FromMinutes(5);
        }, shutdownTimeout: TimeSpan.FromSeconds(40));
        await using var proxy = new TcpProxy(relay.Address.ToString());
        using RawCalls.HeldCall frozen = await RawCalls.HoldAsync(new Uri(proxy.Url), Relays.Prefixes[1]);
        await Eventually.True(() => relay.Host.Admission.InFlight == 1, "the frozen client is blocked mid-snapshot");
        proxy.Blackhole();

        Task stop = relay.StopAsync();
        await Eventually.True(() => relay.Host.Shedder.Draining, "the relay starts draining");
        time.Advance(TimeSpan.FromSeconds(11));

        await Eventually.True(
            () => relay.Host.Stopping.IsCancellationRequested,
            "ShutdownDrainTime (10 s) has passed on the relay's clock: what is left is ended",
            TimeSpan.FromSeconds(10));
        await Eventually.Within(stop, "the stop ends once the drain time is over, the frozen client's connection closed", TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task SetMaxConnections_CalledAgainWithTheSameLimit_MovesNoMoreThanShedBatchSizePerShedInterval()
    {
        await using var store = new InMemoryBackend();
        await RelayFleetBalanceTests.FillAsync(store);
        var time = new FakeTimeProvider();
        await using TestRelay relay = await Relays.InSyncAsync(store, time, options =>
        {
            options.ShedInterval = TimeSpan.FromSeconds(1);
            options.ShedBatchSize = 2;
        });
        List<RawCalls.HeldCall> clients = await IdleClientsAsync(relay, 12);
        try
        {
            using var moved = new RelayCounter(relay, "watchersync.relay.clients_cut_off");

            // A controller that re-asserts each relay's share every so often, here five times within one shed interval.
            for (int i = 0; i < 5; i++)
            {
                relay.Control.SetMaxConnections(2);
            }

            await Eventually.True(() => Settled(relay), "the clients asked to move have left");
            relay.Host.Connections.Count.Should().BeGreaterThanOrEqualTo(10, "at most ShedBatchSize (2) clients are moved per ShedInterval");
            moved.Count("shed").Should().BeLessThanOrEqualTo(2, "at most ShedBatchSize (2) clients are moved per ShedInterval, however often the limit is set");
        }
        finally
        {
            clients.ForEach(static c => c.Dispose());
        }
    }

    [Fact]
    public async Task SetMaxConnections_DuringTheDrain_DoesNotMoveExtraShares()
    {
        await using var store = new InMemoryBackend();
        await RelayFleetBalanceTests.FillAsync(store);
        var time = new FakeTimeProvider();
        await using TestRelay relay = await Relays.InSyncAsync(store, time, options =>
        {
            options.ShedInterval = TimeSpan.FromSeconds(1);
            options.ShutdownDrainTime = TimeSpan.FromSeconds(10);
        }, shutdownTimeout: TimeSpan.FromMinutes(1));
        List<RawCalls.HeldCall> clients = await IdleClientsAsync(relay, 20);
        try
        {
            using var moved = new RelayCounter(relay, "watchersync.relay.clients_cut_off");
            Task stop = relay.StopAsync();
            await Eventually.True(() => relay.Host.Shedder.Draining && moved.Count("drained") >= 1, "the relay starts draining");

            // The fleet's controller still sets this relay's share while it stops (it has not seen it go yet).
            for (int i = 0; i < 5; i++)
            {
                relay.Control.SetMaxConnections(100);
            }

            await Eventually.True(() => Settled(relay), "the clients asked to move have left");
            relay.Host.Connections.Count.Should().BeGreaterThanOrEqualTo(18, "the first of ten rounds moves a tenth of the 20 clients");
            moved.Count("drained").Should().BeLessThanOrEqualTo(2, "the first of ten rounds over ShutdownDrainTime moves a tenth of the 20 clients, whatever else is called");
            stop.IsCompleted.Should().BeFalse("the drain takes its time");
            time.Advance(TimeSpan.FromSeconds(11));
            await Eventually.Within(stop, "the stop ends at the end of the drain", TimeSpan.FromSeconds(30));
        }
        finally
        {
            clients.ForEach(static c => c.Dispose());
        }
    }

    [Theory]
    [InlineData(36_500)]
    [InlineData(-1)]
    public async Task GracefulStop_HugeShutdownDrainTime_MovesClientsAShareAtATime(int days)
    {
        await using var store = new InMemoryBackend();
        await RelayFleetBalanceTests.FillAsync(store);
        var time = new FakeTimeProvider();

        // "As long as the host lets it" (100 years, or TimeSpan.MaxValue): the host's shutdown timeout ends the stop;
        // meanwhile the relay moves its clients a share every ShedInterval.
        await using TestRelay relay = await Relays.InSyncAsync(store, time, options =>
        {
            options.ShedInterval = TimeSpan.FromSeconds(1);
            options.ShutdownDrainTime = days < 0 ? TimeSpan.MaxValue : TimeSpan.FromDays(days);
        }, shutdownTimeout: TimeSpan.FromSeconds(20));
        List<RawCalls.HeldCall> clients = await IdleClientsAsync(relay, 10);
        try
        {
            using var moved = new RelayCounter(relay, "watchersync.relay.clients_cut_off");
            Task stop = relay.StopAsync();
            await Eventually.True(() => relay.Host.Shedder.Draining, "the relay starts draining");

            // A shed tick on the relay's clock (on a real timer, an exception here is an unhandled one).
            time.Advance(TimeSpan.FromSeconds(1));
            await Eventually.True(() => moved.Count("drained") >= 1, "the drain moves its first shares of the clients", TimeSpan.FromSeconds(10));
            await Eventually.True(() => Settled(relay), "the clients asked to move have left");

            relay.Host.Stopping.IsCancellationRequested.Should().BeFalse("the drain time is not over");
            moved.Count("drained").Should().BeLessThan(10, "the clients are moved a share at a time, not all at once");
        }
        finally
        {
            clients.ForEach(static c => c.Dispose());
        }
    }

    [Fact]
    public async Task ShedInterval_LongerThanATimerAllows_IsRefusedByNameOrRuns()
    {
        await using var store = new InMemoryBackend();
        Action<RelayServerOptions> configure = Relays.Feed(store, options => options.ShedInterval = TimeSpan.FromDays(60));
        var options = new RelayServerOptions();
        configure(options);
        Exception? refused = Record.Exception(options.Validate);
        if (refused is not null)
        {
            refused.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Contain("ShedInterval");
            return;
        }

        // Validate accepted it: the relay then starts with it (a slow shed, one batch every 60 days).
        Func<Task> start = async () =>
        {
            await using TestRelay relay = await TestRelay.StartAsync(configure);
        };
        await start.Should().NotThrowAsync("an option Validate accepts starts the relay");
    }

    [Fact]
    public async Task FullRelay_RefusingNewClients_ShedsNoneOfItsOwn()
    {
        await using var store = new InMemoryBackend();
        await RelayFleetBalanceTests.FillAsync(store);
        var time = new FakeTimeProvider();
        await using TestRelay relay = await Relays.InSyncAsync(store, time, options =>
        {
            options.ShedInterval = TimeSpan.FromMilliseconds(1);
            options.PingTimeout = TimeSpan.FromDays(1);
        });
        List<RawCalls.HeldCall> clients = await IdleClientsAsync(relay, 5);
        try
        {
            relay.Control.SetMaxConnections(5);
            using var moved = new RelayCounter(relay, "watchersync.relay.clients_cut_off");

            // A reconnecting fleet knocks on the full relay: each attempt is refused (the place check of RelayService).
            using var storm = new CancellationTokenSource();
            Task knocking = Task.Factory.StartNew(
                () =>
                {
                    while (!storm.IsCancellationRequested)
                    {
                        if (relay.Host.Connections.TryEnter())
                        {
                            relay.Host.Connections.Exit();
                        }
                    }
                },
                TaskCreationOptions.LongRunning);

            // Shed ticks for a while of real time (the race is between two threads): none may move a client.
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (watch.Elapsed < TimeSpan.FromSeconds(10) && moved.Count() == 0)
            {
                time.Advance(TimeSpan.FromMilliseconds(1));
            }

            await storm.CancelAsync();
            await knocking;
            await Eventually.True(() => Settled(relay), "the clients asked to move have left");
            moved.Count("shed").Should().Be(0, "the relay holds exactly its limit: refused attempts are not clients to shed");
            relay.Host.Connections.Count.Should().Be(5);
        }
        finally
        {
            clients.ForEach(static c => c.Dispose());
        }
    }

    /// <summary>Every connection asked to leave has gone (an idle client leaves at once).</summary>
    internal static bool Settled(TestRelay relay) =>
        relay.Host.Connections.Open.All(static c => !c.Leaving) && relay.Host.Connections.Count == relay.Host.Connections.Open.Count;

    /// <summary>Raw clients that took the small prefix's snapshot whole and now sit idle, never answering.</summary>
    internal static async Task<List<RawCalls.HeldCall>> IdleClientsAsync(TestRelay relay, int count)
    {
        var clients = new List<RawCalls.HeldCall>();
        for (int i = 0; i < count; i++)
        {
            clients.Add(await RawCalls.HoldAsync(relay.Address, Relays.Prefixes[0]));
        }

        await Eventually.True(
            () => relay.Host.Connections.Open.Count == count && relay.Host.Admission.InFlight == 0,
            $"the {count} clients have subscribed and taken their snapshots");
        return clients;
    }
}
