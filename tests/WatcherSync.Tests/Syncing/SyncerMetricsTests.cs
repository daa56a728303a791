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

    [Fact]
    public async Task StoppedSyncers_OnAnApplicationsMeterFactory_ReportNothingAndAreCollectable()
    {
        using var factory = new TestMeterFactory();
        using var status = new MetricCollector<int>(factory, WatcherSyncMeter.Name, "watchersync.syncer.status");
        using var keys = new MetricCollector<long>(factory, WatcherSyncMeter.Name, "watchersync.syncer.keys");
        WeakReference[] stopped = await StartAndStopSyncersAsync(factory, 20);

        status.RecordObservableInstruments();
        keys.RecordObservableInstruments();
        status.GetMeasurementSnapshot().Should().BeEmpty("a stopped syncer reports nothing");
        keys.GetMeasurementSnapshot().Should().BeEmpty("a stopped syncer reports nothing");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        stopped.Count(s => s.IsAlive).Should().Be(0, "the factory's meter outlives the syncers but does not hold them");
    }

    [Fact]
    public void SyncersNeverStarted_OnAnApplicationsMeterFactory_ReportNothingAndAreCollectable()
    {
        // The gauges report "exactly the syncers started on this meter and not yet stopped": a syncer built from a
        // configuration that is then abandoned (never started) is neither.
        using var factory = new TestMeterFactory();
        using var status = new MetricCollector<int>(factory, WatcherSyncMeter.Name, "watchersync.syncer.status");
        WeakReference[] abandoned = BuildSyncersNeverStarted(factory, 20);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        status.RecordObservableInstruments();
        status.GetMeasurementSnapshot().Should().BeEmpty("a syncer that never started reports nothing");
        abandoned.Count(s => s.IsAlive).Should().Be(0, "the factory's meter outlives the syncers but does not hold them");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference[] BuildSyncersNeverStarted(TestMeterFactory factory, int count)
    {
        var built = new WeakReference[count];
        for (int i = 0; i < count; i++)
        {
            built[i] = new WeakReference(new WatcherSyncer(new ScriptedBackend(), [new ResourceType(new PrefixListOptions("/a/"))], new RecordingCallbacks(), new WatcherSyncerOptions { TimeProvider = new FakeTimeProvider(), MeterFactory = factory, Name = $"n{i}" }));
        }

        return built;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static async Task<WeakReference[]> StartAndStopSyncersAsync(TestMeterFactory factory, int count)
    {
        var stopped = new WeakReference[count];
        for (int i = 0; i < count; i++)
        {
            var time = new FakeTimeProvider();
            var backend = new ScriptedBackend();
            var syncer = new WatcherSyncer(backend, [new ResourceType(new PrefixListOptions("/a/"))], new RecordingCallbacks(), new WatcherSyncerOptions { TimeProvider = time, MeterFactory = factory, Name = $"s{i}" });
            syncer.Start();
            backend.For("/a/").List(10, Pair("/a/1", "x", 5));
            backend.For("/a/").Watch();
            await Until(time, () => syncer.Status == SyncStatus.InSync, "the syncer is in sync");
            await syncer.StopAsync();
            stopped[i] = new WeakReference(syncer);
        }

        return stopped;
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
