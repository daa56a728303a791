using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Tests.Syncing;

/// <summary>Edge cases of the syncer's reading of whether it can reach the datastore.</summary>
public sealed class WatcherSyncerReachabilityTests
{
    private static readonly ResourceType[] Pods = [new ResourceType(new PrefixListOptions("/pods/"))];

    [Fact]
    public async Task DatastoreUnreachableFor_OnceTheDatastoreIsBackAndTheWatchHasBeenOpenAnHour_IsNull()
    {
        // A quiet prefix, as on etcd: no progress bookmark reaches the syncer within the hour (etcd only sends one when
        // the revision moved, every 10 min at best).
        await using var inner = new InMemoryBackend(new InMemoryBackendOptions { BookmarkInterval = TimeSpan.FromDays(1) });
        await inner.CreateAsync(new KVPair(new PathKey("/pods/a"), "1"));
        var store = new FaultyBackend(inner, seed: 26, faultRate: 0);
        var time = new FakeTimeProvider();
        await using var syncer = new WatcherSyncer(store, Pods, new SyncerCallbacks(), new WatcherSyncerOptions
        {
            TimeProvider = time,
            Backoff = new BackoffOptions { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) },
        });
        syncer.Start();
        await Eventually.Within(syncer.WaitForInSyncAsync(), "the syncer is in sync");

        // The datastore restarts: 30 s out of reach (well under WatchRetryTimeout, so no relist follows).
        store.Down = true;
        await Eventually.Advancing(time, () => syncer.DatastoreUnreachableFor >= TimeSpan.FromSeconds(30), "the syncer sees the datastore gone", step: TimeSpan.FromSeconds(1));
        int lists = store.ListCalls;

        // It is back; the syncer reopens its watch (backoff at most 1 s), which then stays open, healthy and quiet, for
        // an hour.
        store.Down = false;
        long start = time.GetTimestamp();
        await Eventually.Advancing(time, () => time.GetElapsedTime(start) >= TimeSpan.FromSeconds(5), "the syncer has had 5 s to reopen its watch");
        TimeSpan? reopened = syncer.DatastoreUnreachableFor;
        TimeSpan? reading = reopened;
        try
        {
            await Eventually.Advancing(time, () => (reading = syncer.DatastoreUnreachableFor) is null || time.GetElapsedTime(start) >= TimeSpan.FromHours(1), "an hour passes", step: TimeSpan.FromMinutes(1), timeout: TimeSpan.FromSeconds(10));
        }
        catch (Exception) when (reading is not null)
        {
            // Reported below with the reading.
        }

        store.ListCalls.Should().Be(lists, "the syncer resumed its watch without a relist");
        syncer.Status.Should().Be(SyncStatus.InSync);
        (reopened ?? TimeSpan.Zero).Should().BeLessThan(TimeSpan.FromMinutes(1), "right after the reconnect the reading is at most the outage's length (null once the watch is open)");
        reading.Should().BeNull(
            "the watch has been open for an hour of fake time; a reading frozen at the outage's length keeps the health check Degraded (UnreachableDegradedAfter 10 s) until the next write under the prefix");
    }
}
