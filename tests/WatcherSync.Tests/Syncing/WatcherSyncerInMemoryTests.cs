using FluentAssertions;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using WatcherSync.Tests.Dedupe;
using Xunit;

namespace WatcherSync.Tests.Syncing;

public sealed class WatcherSyncerInMemoryTests
{
    [Fact]
    public async Task CreateSyncer_OnInMemoryBackend_SyncsListThenWatch()
    {
        await using var store = new InMemoryBackend();
        await store.CreateAsync(new KVPair(new PathKey("/a/1"), "one"));
        await store.CreateAsync(new KVPair(new PathKey("/b/1"), "ignored"));
        var callbacks = new RecordingCallbacks();
        await using ISyncer syncer = store.CreateSyncer([new ResourceType(new PrefixListOptions("/a/"))], callbacks);
        syncer.Should().BeOfType<WatcherSyncer>();
        syncer.Start();
        await Eventually.True(() => callbacks.LastStatus == SyncStatus.InSync, "the syncer reaches InSync");

        await store.UpdateAsync(new KVPair(new PathKey("/a/1"), "uno"));
        await store.CreateAsync(new KVPair(new PathKey("/a/2"), "two"));
        await store.DeleteAsync(new PathKey("/a/1"));
        await Eventually.True(() => callbacks.AllUpdates.Count == 4, "the watch delivers the three changes");
        callbacks.AllUpdates.Select(u => (u.KVPair.Key.DefaultPath, u.UpdateType, u.KVPair.Value)).Should().Equal(
            ("/a/1", UpdateType.New, "one"), ("/a/1", UpdateType.Updated, "uno"), ("/a/2", UpdateType.New, "two"), ("/a/1", UpdateType.Deleted, null));
        callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task Metrics_PublishUpdatesRelistsStatusAndKeys()
    {
        using var factory = new TestMeterFactory();
        using var updates = new MetricCollector<long>(factory, WatcherSyncMeter.Name, "watchersync.syncer.updates");
        using var relists = new MetricCollector<long>(factory, WatcherSyncMeter.Name, "watchersync.syncer.relists");
        using var status = new MetricCollector<int>(factory, WatcherSyncMeter.Name, "watchersync.syncer.status");
        using var keys = new MetricCollector<long>(factory, WatcherSyncMeter.Name, "watchersync.syncer.keys");
        using var age = new MetricCollector<double>(factory, WatcherSyncMeter.Name, "watchersync.syncer.last_event.age");

        await using var store = new InMemoryBackend();
        for (int i = 0; i < 5; i++)
        {
            await store.CreateAsync(new KVPair(new PathKey($"/m/{i}"), "v"));
        }

        var callbacks = new RecordingCallbacks();
        await using var syncer = new WatcherSyncer(store, [new ResourceType(new PrefixListOptions("/m/"))], callbacks, new WatcherSyncerOptions { Name = "metrics", MeterFactory = factory });
        syncer.Start();
        await Eventually.True(() => callbacks.LastStatus == SyncStatus.InSync, "in sync");
        status.RecordObservableInstruments();
        keys.RecordObservableInstruments();
        age.RecordObservableInstruments();

        updates.GetMeasurementSnapshot().Sum(m => m.Value).Should().Be(5);
        relists.GetMeasurementSnapshot().Sum(m => m.Value).Should().Be(1);
        status.LastMeasurement!.Value.Should().Be((int)SyncStatus.InSync);
        keys.LastMeasurement!.Value.Should().Be(5);
        age.LastMeasurement!.Value.Should().BeGreaterThanOrEqualTo(0);
        updates.GetMeasurementSnapshot().Should().OnlyContain(m => m.ContainsTags("watchersync.syncer"), "every measurement names its syncer");
        updates.LastMeasurement!.Tags["watchersync.syncer"].Should().Be("metrics");
    }
}
