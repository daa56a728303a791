using System.Diagnostics.Metrics;
using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
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
        string name = $"metrics-{Guid.NewGuid():N}";
        var longs = new Dictionary<string, long>();
        var doubles = new Dictionary<string, double>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == WatcherSyncMeter.Name)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "watchersync.syncer" && (string?)tag.Value == name)
                {
                    lock (longs)
                    {
                        if (value is double d)
                        {
                            doubles[instrument.Name] = d;
                        }
                        else
                        {
                            long v = Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);
                            longs[instrument.Name] = instrument is Counter<long> && longs.TryGetValue(instrument.Name, out long sum) ? sum + v : v;
                        }
                    }
                }
            }
        }

        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        await using var store = new InMemoryBackend();
        for (int i = 0; i < 5; i++)
        {
            await store.CreateAsync(new KVPair(new PathKey($"/m/{i}"), "v"));
        }

        var callbacks = new RecordingCallbacks();
        await using var syncer = new WatcherSyncer(store, [new ResourceType(new PrefixListOptions("/m/"))], callbacks, new WatcherSyncerOptions { Name = name });
        syncer.Start();
        await Eventually.True(() => callbacks.LastStatus == SyncStatus.InSync, "in sync");
        listener.RecordObservableInstruments();
        lock (longs)
        {
            longs.Should().Contain("watchersync.syncer.updates", 5);
            longs.Should().Contain("watchersync.syncer.relists", 1);
            longs.Should().Contain("watchersync.syncer.status", (long)SyncStatus.InSync);
            longs.Should().Contain("watchersync.syncer.keys", 5);
            doubles.Should().ContainKey("watchersync.syncer.last_event.age");
            doubles["watchersync.syncer.last_event.age"].Should().BeGreaterThanOrEqualTo(0);
        }
    }
}
