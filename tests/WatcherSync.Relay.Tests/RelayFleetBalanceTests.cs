using FluentAssertions;
using Grpc.Core;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.InMemory;
using WatcherSync.Relay.Server;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// Fleet balance on real relays: admission control for snapshots, shedding down to a connection limit lowered at run
/// time, and a paced graceful stop. Clients moved away hear a transient status, reconnect to the other relay and
/// resume there with a correct picture.
/// </summary>
public sealed class RelayFleetBalanceTests
{
    /// <summary>The prefix the relay clients watch; frozen clients ask for the other, large one.</summary>
    private static readonly string[] Watched = [Relays.Prefixes[0]];

    [Fact]
    public async Task SnapshotAdmission_AtMostMaxConcurrentSnapshotsInFlight_OthersWaitPinged_AndAllReachInSync()
    {
        await using var store = new InMemoryBackend();
        await FillAsync(store);
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store, TurnsHeldByFrozenClients(2)));
        await Eventually.True(() => relay.Feed().Status == SyncStatus.InSync, "the relay is in sync");
        using var cutOffs = new RelayCounter(relay, "watchersync.relay.clients_cut_off");

        // Two clients that never read hold both turns: their snapshots cannot be sent whole.
        using RawCalls.HeldCall first = await RawCalls.HoldAsync(relay.Address, Relays.Prefixes[1]);
        using RawCalls.HeldCall second = await RawCalls.HoldAsync(relay.Address, Relays.Prefixes[1]);
        await Eventually.True(() => relay.Host.Admission.InFlight == 2, "the frozen clients hold both turns");

        await using var fleet = new Fleet();
        for (int i = 0; i < 10; i++)
        {
            // A client that hears nothing for 3 s gives up: only the relay's pings keep the waiting ones connected.
            fleet.Start(Relays.Client(relay.Address), options =>
            {
                options.Prefixes.Add(Relays.Prefixes[0]);
                options.SilenceTimeout = TimeSpan.FromSeconds(3);
            });
        }

        await Eventually.True(() => relay.Host.Admission.Waiting == 10, "the ten clients wait their turn");
        await Eventually.True(
            () => Clients(relay).Count == 10 && Clients(relay).All(c => c.PingsSent >= 5),
            "the waiting clients are pinged for longer than their silence timeout, on their first connection",
            TimeSpan.FromSeconds(30));
        relay.Host.Admission.InFlight.Should().Be(2);
        fleet.Callbacks.Should().OnlyContain(c => c.LastStatus != SyncStatus.InSync, "no waiting client has a snapshot");

        first.Dispose();
        second.Dispose();
        foreach ((RecordingCallbacks callbacks, int i) in fleet.Callbacks.Select((c, i) => (c, i)))
        {
            await Relays.ConvergedAsync(callbacks, store, $"client {i}", TimeSpan.FromSeconds(60), prefixes: Watched);
        }

        relay.Host.Admission.MostInFlight.Should().Be(2, "never more than MaxConcurrentSnapshots snapshots are sent at once");
        relay.Host.Admission.MostWaiting.Should().Be(10);
        fleet.Syncers.Should().OnlyContain(s => s.Resyncs == 1, "each client took one snapshot, on the connection it waited on");
        cutOffs.Count().Should().Be(0, "no waiting client was cut off");
        fleet.Callbacks.SelectMany(c => c.Violations).Should().BeEmpty();
    }

    [Fact]
    public async Task SnapshotAdmission_WaitPastTheTimeout_SendsTheClientAway_WithATransientResourceExhausted()
    {
        await using var store = new InMemoryBackend();
        await FillAsync(store);
        var time = new FakeTimeProvider();
        await using TestRelay relay = await Relays.InSyncAsync(store, time, options =>
        {
            options.MaxConcurrentSnapshots = 1;
            options.SnapshotAdmissionTimeout = TimeSpan.FromSeconds(10);
        });
        using var cutOffs = new RelayCounter(relay, "watchersync.relay.clients_cut_off");
        using RawCalls.HeldCall holder = await RawCalls.HoldAsync(relay.Address, Relays.Prefixes[1]);
        await Eventually.True(() => relay.Host.Admission.InFlight == 1, "the frozen client holds the only turn");

        Task<RpcException> waiting = RawCalls.EndingAsync(relay.Address, [RawCalls.Hello()]);
        await Eventually.True(() => relay.Host.Admission.Waiting == 1, "the second client waits");
        await Eventually.Advancing(time, () => waiting.IsCompleted, "the waiting client is sent away", TimeSpan.FromSeconds(1));
        RpcException sentAway = await waiting;

        sentAway.StatusCode.Should().Be(StatusCode.ResourceExhausted);
        sentAway.Status.Detail.Should().Contain("no turn to receive a snapshot within 10 s");
        RelayRefusals.Classify(relay.Address, sentAway).Should().BeNull("a client takes it as transient: it backs off and tries its next relay");
        cutOffs.Count("busy").Should().Be(1);
        relay.Host.Admission.Waiting.Should().Be(0);
        relay.Host.Admission.InFlight.Should().Be(1, "the frozen client still holds its turn; the turn given up is not lost");
    }

    [Fact]
    public async Task ResumedClient_IsNeverHeldByAdmission()
    {
        await using var store = new InMemoryBackend();
        await FillAsync(store);
        await using TestRelay a = await TestRelay.StartAsync(Relays.Feed(store, TurnsHeldByFrozenClients(1)));
        await using TestRelay b = await TestRelay.StartAsync(Relays.Feed(store));
        a.Control.SetMaxConnections(0);
        await using var fleet = new Fleet();
        (RelaySyncer syncer, RecordingCallbacks callbacks) = fleet.Start(Relays.Client(a.Address, b.Address), options => options.Prefixes.Add(Relays.Prefixes[0]));
        await Relays.ConvergedAsync(callbacks, store, "client on the second relay", prefixes: Watched);
        syncer.ConnectedEndpoint.Should().Be(b.Address);

        a.Control.SetMaxConnections(100);
        using RawCalls.HeldCall holder = await RawCalls.HoldAsync(a.Address, Relays.Prefixes[1]);
        await Eventually.True(() => a.Host.Admission.InFlight == 1, "a frozen client holds the first relay's only turn");
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 9_000)), "while moving"));
        b.Control.SetMaxConnections(0);

        await Eventually.True(() => syncer.ConnectedEndpoint == a.Address && syncer.Resumes == 1, "the client moves to the first relay and resumes there");
        await Relays.ConvergedAsync(callbacks, store, "client on the first relay", prefixes: Watched);
        a.Host.Admission.MostWaiting.Should().Be(0, "a client that needs no snapshot never waits for a turn");
        syncer.Resyncs.Should().Be(1, "the only snapshot was the first one");
        callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task LoweringTheConnectionLimit_MovesTheNewestAwayPaced_AndTheyResumeOnTheOtherRelayWithACorrectPicture()
    {
        await using var store = new InMemoryBackend();
        await FillAsync(store);
        var time = new FakeTimeProvider();
        await using TestRelay a = await Relays.InSyncAsync(store, time, options =>
        {
            options.ShedInterval = TimeSpan.FromSeconds(1);
            options.ShedBatchSize = 2;
        });
        await using TestRelay b = await TestRelay.StartAsync(Relays.Feed(store));
        await using var fleet = await FleetOnAsync(a, b, store, 20);
        long[] oldest = [.. a.Host.Connections.Open.Select(c => c.Id).Order().Take(5)];
        using var moved = new RelayCounter(a, "watchersync.relay.clients_cut_off");
        using var resumed = new RelayCounter(b, "watchersync.relay.resumes", "by");

        a.Control.SetMaxConnections(5);
        a.Control.MaxConnections.Should().Be(5);
        int expected = 20;
        for (int round = 0; expected > 5; round++)
        {
            expected -= Math.Min(2, expected - 5);
            await Eventually.True(() => a.Host.Connections.Count == expected, $"after round {round} the relay holds {expected} clients");
            moved.Count("shed").Should().Be(20 - expected, "at most ShedBatchSize clients are moved per ShedInterval");
            KVPair written = await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1000 + round)), $"written in round {round}"));
            await BothHaveAsync(a, b, long.Parse(written.Revision!, System.Globalization.CultureInfo.InvariantCulture));
            time.Advance(TimeSpan.FromSeconds(1));
        }

        await Eventually.True(() => b.Host.Connections.Count == 15, "the clients moved away reconnect to the other relay");
        a.Host.Connections.Count.Should().Be(5);
        a.Host.Connections.Open.Select(c => c.Id).Order().Should().Equal(oldest, "the newest are moved first");
        foreach ((RecordingCallbacks callbacks, int i) in fleet.Callbacks.Select((c, i) => (c, i)))
        {
            await Relays.ConvergedAsync(callbacks, store, $"client {i}", prefixes: Watched);
        }

        resumed.Count().Should().Be(15, "each client moved resumed on the other relay without a snapshot");
        moved.Count().Should().Be(15, "nobody else was cut off");
        fleet.Callbacks.SelectMany(c => c.Violations).Should().BeEmpty();
    }

    [Fact]
    public async Task GracefulStop_MovesClientsAwayPacedOverTheDrainTime_TheyEndInSyncOnTheOtherRelay_AndAFrozenClientDoesNotHoldTheStop()
    {
        await using var store = new InMemoryBackend();
        await FillAsync(store);
        var time = new FakeTimeProvider();

        // The host's own shutdown timeout is far off: only the relay's drain can end the stop in time.
        await using TestRelay a = await Relays.InSyncAsync(store, time, options =>
        {
            options.ShedInterval = TimeSpan.FromSeconds(1);
            options.ShutdownDrainTime = TimeSpan.FromSeconds(10);
        }, shutdownTimeout: TimeSpan.FromMinutes(5));
        await using TestRelay b = await TestRelay.StartAsync(Relays.Feed(store));
        await using var fleet = await FleetOnAsync(a, b, store, 20);

        // A frozen client (its process stopped): nothing passes its proxy either way, so it never reads what the relay
        // sends, nor closes its connection, and the server's graceful stop would wait for it.
        await using var proxy = new TcpProxy(a.Address.ToString());
        using RawCalls.HeldCall frozen = await RawCalls.HoldAsync(new Uri(proxy.Url), Relays.Prefixes[1]);
        await Eventually.True(() => a.Host.Connections.Open.Count(c => c.ClientName == "raw") == 1 && a.Host.Connections.Count == 21, "the frozen client has subscribed");
        proxy.Blackhole();
        using var moved = new RelayCounter(a, "watchersync.relay.clients_cut_off");
        using var resumed = new RelayCounter(b, "watchersync.relay.resumes", "by");

        Task stop = a.StopAsync();
        await Eventually.True(() => a.Host.Shedder.Draining, "the relay starts draining");
        int previous = 20;
        var left = new List<int>();
        for (int second = 0; second < 10; second++)
        {
            await Eventually.True(() => Clients(a).All(c => !c.Leaving), $"the clients moved at second {second} have left");
            int now = Clients(a).Count;
            left.Add(previous - now);
            previous = now;
            stop.IsCompleted.Should().BeFalse("the drain takes its time");
            KVPair written = await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1000 + second)), $"written at second {second}"));
            await BothHaveAsync(a, b, long.Parse(written.Revision!, System.Globalization.CultureInfo.InvariantCulture));
            time.Advance(TimeSpan.FromSeconds(1));
        }

        await Eventually.Within(stop, "the stop ends at the end of the drain time, the frozen client's connection closed", TimeSpan.FromSeconds(20));
        left.Sum().Should().Be(20);
        left.Should().OnlyContain(n => n <= 3, $"clients leave a share at a time, not all at once (per second: {string.Join(", ", left)})");
        left.Count(n => n > 0).Should().BeGreaterThanOrEqualTo(8, "the drain is spread over its time");
        moved.Count("drained").Should().Be(21);

        await Eventually.True(() => b.Host.Connections.Count == 20, "every client is on the other relay");
        foreach ((RecordingCallbacks callbacks, int i) in fleet.Callbacks.Select((c, i) => (c, i)))
        {
            await Relays.ConvergedAsync(callbacks, store, $"client {i}", prefixes: Watched);
        }

        resumed.Count().Should().Be(20, "each client resumed on the other relay without a snapshot");
        fleet.Callbacks.SelectMany(c => c.Violations).Should().BeEmpty();
    }

    /// <summary>
    /// Waits until both relays have applied the write at <paramref name="revision"/>, before the next clients move: a
    /// client whose picture is ahead of the other relay's cannot be continued there (it resnapshots, correctly), and the
    /// tests count resumes.
    /// </summary>
    internal static Task BothHaveAsync(TestRelay a, TestRelay b, long revision) =>
        Eventually.True(() => a.Feed().Head.Revision >= revision && b.Feed().Head.Revision >= revision, $"both relays have revision {revision}");

    [Theory]
    [InlineData(nameof(RelayServerOptions.MaxConcurrentSnapshots), 0, "MaxConcurrentSnapshots must be at least 1; it is 0.")]
    [InlineData(nameof(RelayServerOptions.ShedBatchSize), -1, "ShedBatchSize must be at least 1; it is -1.")]
    [InlineData(nameof(RelayServerOptions.SnapshotAdmissionTimeout), 0, "SnapshotAdmissionTimeout must be positive; it is 00:00:00.")]
    [InlineData(nameof(RelayServerOptions.ShedInterval), -1, "ShedInterval must be positive; it is -00:00:01.")]
    [InlineData(nameof(RelayServerOptions.ShutdownDrainTime), 0, "ShutdownDrainTime must be positive; it is 00:00:00.")]
    public void FleetBalanceOptions_ZeroOrNegative_AreRefusedWithTheirName(string option, int value, string message)
    {
        var options = new RelayServerOptions { AllowAnonymous = true };
        options.Feeds.Add(new RelayFeedOptions { Name = "default", Backend = new InMemoryBackend() });
        options.Feeds[0].ResourceTypes.Add(Relays.Types[0]);
        System.Reflection.PropertyInfo property = typeof(RelayServerOptions).GetProperty(option)!;
        property.SetValue(options, property.PropertyType == typeof(TimeSpan) ? TimeSpan.FromSeconds(value) : value);

        Action validate = options.Validate;

        validate.Should().Throw<InvalidOperationException>().WithMessage(message);
    }

    [Fact]
    public async Task SetMaxConnections_Negative_IsRefused_AndZeroRefusesEveryNewClient()
    {
        await using var store = new InMemoryBackend();
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));

        relay.Control.Invoking(c => c.SetMaxConnections(-1)).Should().Throw<ArgumentOutOfRangeException>();
        relay.Control.SetMaxConnections(0);

        RpcException refused = await RawCalls.EndingAsync(relay.Address, [RawCalls.Hello()]);
        refused.StatusCode.Should().Be(StatusCode.ResourceExhausted);
        refused.Status.Detail.Should().Contain("The relay is full (0 clients)");
        relay.Control.MaxConnections.Should().Be(0);
        relay.Control.Connections.Should().Be(0);
    }

    /// <summary>
    /// Fills the store: the clients' prefix (<see cref="Watched"/>) with 50 small values, and the other with 8 MB that
    /// only frozen clients ask for: far more than a stream's windows and buffers hold, so the relay's writes to a
    /// client that never reads block mid-snapshot.
    /// </summary>
    internal static async Task FillAsync(InMemoryBackend store)
    {
        for (int i = 0; i < 50; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, i)), new string('v', 100)));
        }

        string large = new('f', 32 * 1024);
        for (int i = 0; i < 256; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(1, i)), large));
        }
    }

    /// <summary>A relay allowing <paramref name="turns"/> snapshots at once, whose frozen clients are not cut off while the test needs them.</summary>
    private static Action<RelayServerOptions> TurnsHeldByFrozenClients(int turns) => options =>
    {
        options.MaxConcurrentSnapshots = turns;
        options.PingTimeout = TimeSpan.FromMinutes(5);
        options.WriteTimeout = TimeSpan.FromMinutes(5);
    };

    private static List<RelayConnection> Clients(TestRelay relay) => [.. relay.Host.Connections.Open.Where(c => c.ClientName == "test-client")];

    /// <summary>
    /// Starts <paramref name="count"/> clients of relays <paramref name="a"/> and <paramref name="b"/> (in that order)
    /// all on <paramref name="a"/> (<paramref name="b"/> takes none until they are in sync), and waits until they are.
    /// <paramref name="a"/> runs on a fake clock: its pings come only as the test moves it, so the clients' silence
    /// timeout is long.
    /// </summary>
    internal static async Task<Fleet> FleetOnAsync(TestRelay a, TestRelay b, InMemoryBackend store, int count)
    {
        b.Control.SetMaxConnections(0);
        var fleet = new Fleet();
        for (int i = 0; i < count; i++)
        {
            fleet.Start(Relays.Client(a.Address, b.Address), options =>
            {
                options.Prefixes.Add(Relays.Prefixes[0]);
                options.SilenceTimeout = TimeSpan.FromMinutes(5);
            });
        }

        foreach ((RecordingCallbacks callbacks, int i) in fleet.Callbacks.Select((c, i) => (c, i)))
        {
            await Relays.ConvergedAsync(callbacks, store, $"client {i} on the first relay", TimeSpan.FromSeconds(60), prefixes: Watched);
        }

        await Eventually.True(() => a.Host.Connections.Count == count, $"the {count} clients are on the first relay");
        b.Control.SetMaxConnections(100);
        return fleet;
    }

    /// <summary>Relay clients started together and stopped together.</summary>
    internal sealed class Fleet : IAsyncDisposable
    {
        public List<RelaySyncer> Syncers { get; } = [];

        public List<RecordingCallbacks> Callbacks { get; } = [];

        public (RelaySyncer Syncer, RecordingCallbacks Callbacks) Start(RelaySyncerOptions options, Action<RelaySyncerOptions>? configure = null)
        {
            configure?.Invoke(options);
            var callbacks = new RecordingCallbacks();
            var syncer = new RelaySyncer(options, callbacks);
            Syncers.Add(syncer);
            Callbacks.Add(callbacks);
            syncer.Start();
            return (syncer, callbacks);
        }

        public async ValueTask DisposeAsync()
        {
            await Task.WhenAll(Syncers.Select(s => s.DisposeAsync().AsTask()));
        }
    }
}
