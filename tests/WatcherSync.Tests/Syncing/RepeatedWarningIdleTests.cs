using FluentAssertions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Testing.ScriptedBackend;

namespace WatcherSync.Tests.Syncing;

/// <summary>Edge cases of the rate-limited warnings under hours of idleness (fake clock).</summary>
public sealed class RepeatedWarningIdleTests
{
    [Fact]
    public async Task WatchBackAfterABlip_IdleStoreForHours_TheNextFailureIsNotASummaryOfRepeatsInTheLastMinute()
    {
        var time = new FakeTimeProvider();
        var backend = new ScriptedBackend();
        Script a = backend.For("/a/");
        a.List(10, Pair("/a/k", "v", 1));
        for (int i = 0; i < 5; i++)
        {
            a.WatchFails(new DatastoreUnavailableException("connection refused"));
        }

        ScriptedWatch healthy = a.Watch();
        var logs = new FakeLogCollector();
        await using var syncer = new WatcherSyncer(backend, [new ResourceType(new PrefixListOptions("/a/"))], new RecordingCallbacks(), new WatcherSyncerOptions
        {
            TimeProvider = time,
            LoggerFactory = FakeLogs.Factory(logs),
            Backoff = { MaxDelay = TimeSpan.FromSeconds(5), Random = new Random(7) },
        });
        syncer.Start();

        // A blip: five reconnects fail within a minute (the first logged, four counted), then the watch is back.
        await Eventually.Advancing(time, () => a.WatchRevisions.Count == 6, "five reconnects failed, then one worked", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        await Eventually.True(() => syncer.Status == SyncStatus.InSync, "in sync");

        // The store is idle for three hours: the watch is healthy and hears only bookmarks at the same revision.
        for (int hour = 0; hour < 3 * 60; hour++)
        {
            time.Advance(TimeSpan.FromMinutes(1));
            healthy.Bookmark(10);
        }

        await Eventually.True(() => syncer.TimeSinceLastEvent < TimeSpan.FromMinutes(2), "the bookmarks are heard");

        // Then the watch breaks once.
        healthy.Error(new DatastoreUnavailableException("etcd restarted"));
        a.Watch();
        await Eventually.Advancing(time, () => a.WatchRevisions.Count == 7, "the watch reconnects", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));

        List<FakeLogRecord> watchLogs = [.. logs.GetSnapshot().Where(r => r.Id.Id is 1004 or 1015 or 1016)];
        string told = string.Join(" | ", watchLogs.Select(r => $"[{r.Timestamp:HH:mm:ss}] {r.Id.Id} {r.Message}"));
        watchLogs.Should().Contain(r => r.Id.Id == 1016, "the watch worked again three hours ago, and the four failures not logged are told then; logged: {0}", told);
        watchLogs[^1].Id.Id.Should().NotBe(1015, "a failure after three healthy hours starts a new run; it is not '4 more failures in the last minute'; logged: {0}", told);
    }
}
