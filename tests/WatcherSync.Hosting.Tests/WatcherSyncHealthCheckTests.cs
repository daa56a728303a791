using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Testing.ScriptedBackend;

namespace WatcherSync.Hosting.Tests;

public sealed class WatcherSyncHealthCheckTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(1);

    [Theory]
    [InlineData("Running", SyncStatus.InSync, 10, HealthStatus.Healthy, "In sync.")]
    [InlineData("Running", SyncStatus.ResyncInProgress, 10, HealthStatus.Degraded, "Resync in progress.")]
    [InlineData("Running", SyncStatus.WaitForDatastore, 10, HealthStatus.Unhealthy, "Waiting for the datastore.")]
    [InlineData("Running", SyncStatus.InSync, 61, HealthStatus.Unhealthy, "the watch stream is dead")]
    [InlineData("Running", SyncStatus.ResyncInProgress, 61, HealthStatus.Unhealthy, "the watch stream is dead")]
    [InlineData("Created", SyncStatus.WaitForDatastore, 0, HealthStatus.Unhealthy, "has not started")]
    [InlineData("Stopped", SyncStatus.InSync, 0, HealthStatus.Unhealthy, "has stopped")]
    public void Evaluate_StateStatusAndSilence_GiveTheDocumentedVerdict(string state, SyncStatus status, int silenceSeconds, HealthStatus expected, string description)
    {
        HealthCheckResult result = WatcherSyncHealthCheck.Evaluate(Snapshot(Enum.Parse<PipelineState>(state), status, TimeSpan.FromSeconds(silenceSeconds)), HealthStatus.Unhealthy);

        result.Status.Should().Be(expected);
        result.Description.Should().Contain(description);
        result.Data["status"].Should().Be(status.ToString());
        result.Data["timeSinceLastEvent"].Should().Be(TimeSpan.FromSeconds(silenceSeconds));
        result.Data["keys"].Should().Be(7L);
        result.Data["maxEventAge"].Should().Be(Limit);
    }

    [Theory]
    [InlineData(SyncStatus.InSync, 11, HealthStatus.Degraded, "unreachable for 11 s")]
    [InlineData(SyncStatus.InSync, 9, HealthStatus.Healthy, "In sync.")]
    [InlineData(SyncStatus.WaitForDatastore, 700, HealthStatus.Unhealthy, "Waiting for the datastore.")]
    public void Evaluate_DatastoreUnreachable_IsDegradedEarly_AndUnhealthyOnceTheSyncerGivesUp(SyncStatus status, int unreachableSeconds, HealthStatus expected, string description)
    {
        // While the syncer retries, its status stays InSync for WatchRetryTimeout (10 min): the check says Degraded
        // after UnreachableDegradedAfter instead of Healthy all that time.
        WatcherSyncHealthSnapshot snapshot = Snapshot(PipelineState.Running, status, TimeSpan.FromSeconds(1)) with
        {
            UnreachableFor = TimeSpan.FromSeconds(unreachableSeconds),
            UnreachableDegradedAfter = TimeSpan.FromSeconds(10),
        };

        HealthCheckResult result = WatcherSyncHealthCheck.Evaluate(snapshot, HealthStatus.Unhealthy);

        result.Status.Should().Be(expected);
        result.Description.Should().Contain(description);
    }

    [Fact]
    public void Evaluate_FailureStatusOfTheRegistration_IsUsedForEveryFailure()
    {
        WatcherSyncHealthCheck.Evaluate(Snapshot(PipelineState.Running, SyncStatus.WaitForDatastore, TimeSpan.Zero), HealthStatus.Degraded)
            .Status.Should().Be(HealthStatus.Degraded);
    }

    [Fact]
    public void Evaluate_NoLimit_NeverCallsTheStreamDead()
    {
        WatcherSyncHealthSnapshot snapshot = Snapshot(PipelineState.Running, SyncStatus.InSync, TimeSpan.FromDays(3)) with { MaxEventAge = null };
        HealthCheckResult result = WatcherSyncHealthCheck.Evaluate(snapshot, HealthStatus.Unhealthy);
        result.Status.Should().Be(HealthStatus.Healthy);
        result.Data.Should().NotContainKey("maxEventAge");
    }

    [Fact]
    public void Evaluate_SinkFault_IsAFailureCarryingTheException()
    {
        var fault = new InvalidOperationException("broken sink");
        HealthCheckResult result = WatcherSyncHealthCheck.Evaluate(Snapshot(PipelineState.Running, SyncStatus.InSync, TimeSpan.Zero) with { Fault = fault }, HealthStatus.Unhealthy);
        result.Status.Should().Be(HealthStatus.Unhealthy);
        result.Exception.Should().BeSameAs(fault);
    }

    [Fact]
    public async Task HealthCheck_ThroughTheHost_FollowsStartSyncSilenceAndResync()
    {
        var time = new FakeTimeProvider();
        var backend = new ScriptedBackend();
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddSingleton<IBackendClient>(backend);
        builder.Services.AddWatcherSync(o =>
            {
                o.Syncer.TimeProvider = time;
                o.Syncer.MinResyncInterval = TimeSpan.Zero;
                o.MaxEventAge = Limit;
            })
            .AddPrefix("/a/")
            .AddPrefix("/b/")
            .AddSink<RecordingCallbacks>();
        builder.Services.AddHealthChecks().AddWatcherSync(tags: ["ready"]);
        using IHost host = builder.Build();
        HealthCheckService health = host.Services.GetRequiredService<HealthCheckService>();
        RecordingCallbacks sink = host.Services.GetRequiredService<RecordingCallbacks>();

        (await Check(health)).Description.Should().Be("The syncer has not started.");
        await host.StartAsync();
        HealthReportEntry waiting = await Check(health);
        waiting.Status.Should().Be(HealthStatus.Unhealthy);
        waiting.Description.Should().Be("Waiting for the datastore.");
        waiting.Tags.Should().Equal("ready");

        backend.For("/a/").List(10, Pair("/a/1", "x", 5));
        await Eventually.True(() => sink.LastStatus == SyncStatus.ResyncInProgress, "the first cache has listed");
        (await Check(health)).Status.Should().Be(HealthStatus.Degraded, "one of the two prefixes is still resyncing");

        ScriptedWatch watchA = backend.For("/a/").Watch();
        backend.For("/b/").List(10);
        ScriptedWatch watchB = backend.For("/b/").Watch();
        await Eventually.True(() => sink.LastStatus == SyncStatus.InSync, "both caches have listed");
        await Eventually.True(() => backend.For("/b/").WatchRevisions.Count == 1, "the second cache watches");
        HealthReportEntry inSync = await Check(health);
        inSync.Status.Should().Be(HealthStatus.Healthy);
        inSync.Data["keys"].Should().Be(1L);

        time.Advance(TimeSpan.FromSeconds(90));
        HealthReportEntry silent = await Check(health);
        silent.Status.Should().Be(HealthStatus.Unhealthy);
        silent.Description.Should().Contain("the watch stream is dead");
        ((TimeSpan)silent.Data["timeSinceLastEvent"]).Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(90));

        WatcherSyncer syncer = host.Services.GetRequiredService<WatcherSyncer>();
        watchA.Modified("/a/1", "y", 11);
        await Eventually.True(() => sink.AllUpdates.Count == 2, "the first stream is heard from again");
        (await Check(health)).Status.Should().Be(HealthStatus.Unhealthy, "one silent stream is enough: the check looks at the stalest resource type");
        watchB.Bookmark(11);
        await Eventually.True(() => syncer.TimeSinceLastEvent < Limit, "the second stream is heard from again");
        (await Check(health)).Status.Should().Be(HealthStatus.Healthy);

        await host.StopAsync();
        (await Check(health)).Description.Should().Be("The syncer has stopped.");
    }

    [Fact]
    public async Task HealthCheck_DefaultHostOverAnIdleEmbeddedStore_StaysHealthyForAnHour()
    {
        var time = new FakeTimeProvider();
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddWatcherSync(o => o.Syncer.TimeProvider = time)
            .UseInMemoryBackend(o => o.TimeProvider = time)
            .AddPrefix("/app/")
            .AddSink<RecordingCallbacks>();
        builder.Services.AddHealthChecks().AddWatcherSync();
        using IHost host = builder.Build();
        await host.Services.GetRequiredService<InMemory.InMemoryBackend>().CreateAsync(new KVPair(new PathKey("/app/a"), "1"));
        HealthCheckService health = host.Services.GetRequiredService<HealthCheckService>();
        RecordingCallbacks sink = host.Services.GetRequiredService<RecordingCallbacks>();
        WatcherSyncer syncer = host.Services.GetRequiredService<WatcherSyncer>();
        await host.StartAsync();
        await Eventually.True(() => sink.LastStatus == SyncStatus.InSync, "the hosted syncer is in sync");

        // The watch opens right after the list, on the syncer's own thread. The hour starts once it is open and idle,
        // so that its bookmarks run on the fake clock from the first second: a watch opened late, while the loop below
        // has already moved the clock far, would be judged by an hour it did not see. Move the clock in small steps
        // until the watch is open.
        InMemory.InMemoryBackend store = host.Services.GetRequiredService<InMemory.InMemoryBackend>();
        await Eventually.True(
            () =>
            {
                if (store.WaiterCount == 1)
                {
                    return true;
                }

                time.Advance(TimeSpan.FromMilliseconds(50));
                return false;
            },
            "the syncer's watch is open and waiting for changes");

        // An hour without a single write, a second at a time: the store's bookmarks keep the watch heard from.
        for (int second = 1; second <= 3600; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            if (second % 60 == 0)
            {
                await Eventually.True(() => syncer.TimeSinceLastEvent <= TimeSpan.FromSeconds(5), $"the idle watch is heard from after {second} s");
                HealthReportEntry entry = await Check(health);
                entry.Status.Should().Be(HealthStatus.Healthy, $"an idle store is not a dead stream ({second} s without writes: {entry.Description})");
            }
        }

        sink.Statuses.Should().Equal(SyncStatus.ResyncInProgress, SyncStatus.InSync);
        await host.StopAsync();
    }

    private static async Task<HealthReportEntry> Check(HealthCheckService health) =>
        (await health.CheckHealthAsync()).Entries["watchersync"];

    private static WatcherSyncHealthSnapshot Snapshot(PipelineState state, SyncStatus status, TimeSpan silence) =>
        new("default", state, status, 7, silence, Limit, null);
}
