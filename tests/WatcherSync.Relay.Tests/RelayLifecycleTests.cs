using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>What the consumer and the operator see around outages: statuses, SyncFailed, the health check, stop.</summary>
public sealed class RelayLifecycleTests
{
    [Fact]
    public async Task NoRelayForLongerThanTheDisconnectedTimeout_ReportsWaitForDatastore_ThenResyncsWhenOneReturns()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "v"));
        TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        int port = relay.Port;
        var callbacks = new RecordingCallbacks();
        RelaySyncerOptions options = Relays.Client(relay.Address);
        options.DisconnectedTimeout = TimeSpan.FromMilliseconds(300);
        await using var syncer = new RelaySyncer(options, callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client before the outage");

        await relay.KillAsync();
        // WaitForDatastore is announced, then SyncFailed is called: wait for both before looking.
        await Eventually.True(
            () => callbacks.LastStatus == SyncStatus.WaitForDatastore && callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Any(),
            "the client reports it has lost its relays");
        callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Should().ContainSingle();
        callbacks.Picture.Should().ContainKey(Relays.Key(0, 1), "the last picture is kept while waiting, as a direct syncer keeps it");

        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(1, 2)), "while down"));
        await using TestRelay back = await TestRelay.StartAsync(Relays.Feed(store), port);
        await Relays.ConvergedAsync(callbacks, store, "client after the outage");
        callbacks.Statuses.Should().EndWith([SyncStatus.WaitForDatastore, SyncStatus.ResyncInProgress, SyncStatus.InSync]);
        callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task StopAsync_WithDeleteOnStopOff_KeepsThePicture_AndTellsTheSinkItIsStopping()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "v"));
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        int stoppingAt = -1;
        var callbacks = new RecordingCallbacks();
        var sink = new SyncerCallbacks
        {
            OnStatusUpdated = ((ISyncerCallbacks)callbacks).OnStatusUpdated,
            OnUpdates = ((ISyncerCallbacks)callbacks).OnUpdates,
            OnStopping = () => stoppingAt = callbacks.Calls.Count,
        };
        RelaySyncerOptions options = Relays.Client(relay.Address);
        options.DeleteOnStop = false;
        var syncer = new RelaySyncer(options, sink);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client");
        int before = callbacks.Calls.Count;

        await syncer.StopAsync();

        stoppingAt.Should().Be(before, "the sink is told of the stop after everything else");
        callbacks.Calls.Count.Should().Be(before, "no deletes are reported");
        callbacks.Picture.Should().ContainKey(Relays.Key(0, 1));
    }

    [Fact]
    public async Task StopAsync_ReportsEveryHeldKeyAsDeleted()
    {
        await using var store = new InMemoryBackend();
        for (int i = 0; i < 5; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), "v"));
        }

        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        var callbacks = new RecordingCallbacks();
        var syncer = new RelaySyncer(Relays.Client(relay.Address), callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client");

        await syncer.StopAsync();
        await syncer.DisposeAsync();

        callbacks.Picture.Should().BeEmpty();
        syncer.KeyCount.Should().Be(0);
        callbacks.Violations.Should().BeEmpty();
        FluentActions.Invoking(syncer.Start).Should().Throw<ObjectDisposedException>();
    }

    [Fact]
    public async Task HealthCheck_IsHealthyInSync_AndReportsClientsAndKeys()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "v"));
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(relay.Address), callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client");
        HealthCheckService health = relay.Services.GetRequiredService<HealthCheckService>();

        HealthReport report = await health.CheckHealthAsync();

        report.Status.Should().Be(HealthStatus.Healthy);
        HealthReportEntry entry = report.Entries["watchersync-relay"];
        entry.Data["clients"].Should().Be(1);
        entry.Data["feed.default.keys"].Should().Be(1);
        entry.Data["feed.default.status"].Should().Be("InSync");
    }
}
