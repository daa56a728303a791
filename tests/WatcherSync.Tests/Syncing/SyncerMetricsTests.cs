using FluentAssertions;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.Testing;
using WatcherSync.Tests.Dedupe;
using Xunit;
using static WatcherSync.Testing.ScriptedBackend;

namespace WatcherSync.Tests.Syncing;

public sealed class SyncerMetricsTests
{
    [Fact]
    public async Task WatchRestarts_AWatchThatEnds_IsCountedOnceWhenItIsOpenedAgain()
    {
        var time = new FakeTimeProvider();
        var backend = new ScriptedBackend();
        using var factory = new TestMeterFactory();
        using var restarts = new MetricCollector<long>(factory, WatcherSyncMeter.Name, "watchersync.syncer.watch.restarts");
        var options = new WatcherSyncerOptions { TimeProvider = time, MeterFactory = factory };
        await using var syncer = new WatcherSyncer(backend, [new ResourceType(new PrefixListOptions("/a/"))], new RecordingCallbacks(), options);
        syncer.Start();

        Script a = backend.For("/a/");
        a.List(10, Pair("/a/1", "x", 5));
        ScriptedWatch first = a.Watch();
        await Until(time, () => a.WatchRevisions.Count == 1, "the cache watches");
        restarts.GetMeasurementSnapshot().Sum(m => m.Value).Should().Be(0);

        first.End();
        a.Watch();
        await Until(time, () => a.WatchRevisions.Count == 2, "the cache watches again after the stream ended");
        restarts.GetMeasurementSnapshot().Sum(m => m.Value).Should().Be(1);
    }

    private static Task Until(FakeTimeProvider time, Func<bool> condition, string because) =>
        Eventually.True(
            () =>
            {
                time.Advance(TimeSpan.FromMilliseconds(100));
                return condition();
            },
            because);
}
