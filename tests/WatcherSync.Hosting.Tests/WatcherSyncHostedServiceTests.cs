using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Hosting.Tests;

public sealed class WatcherSyncHostedServiceTests
{
    [Fact]
    public async Task Host_InMemoryByDefault_MirrorsThePrefixAndReportsEveryKeyDeletedOnStop()
    {
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddWatcherSync().AddPrefix("/app/").AddSink<RecordingCallbacks>();
        using IHost host = builder.Build();
        InMemoryBackend store = host.Services.GetRequiredService<InMemoryBackend>();
        host.Services.GetRequiredService<IBackendClient>().Should().BeSameAs(store);
        await store.CreateAsync(new KVPair(new PathKey("/app/a"), "1"));
        await store.CreateAsync(new KVPair(new PathKey("/other/x"), "1"));
        RecordingCallbacks sink = host.Services.GetRequiredService<RecordingCallbacks>();

        await host.StartAsync();
        await Eventually.True(() => sink.LastStatus == SyncStatus.InSync, "the hosted syncer reaches InSync");
        sink.Picture.Keys.Should().Equal("/app/a");
        await store.CreateAsync(new KVPair(new PathKey("/app/b"), "2"));
        await Eventually.True(() => sink.Picture.ContainsKey("/app/b"), "a later write reaches the sink");

        await host.StopAsync();
        sink.Picture.Should().BeEmpty("the syncer reports every key it held as deleted when the host stops it");
        sink.Violations.Should().BeEmpty();
        host.Services.GetRequiredService<WatcherSyncer>().Invoking(s => s.Start()).Should().Throw<ObjectDisposedException>("the host stopped the syncer");
    }

    [Fact]
    public async Task Host_BufferedSink_ReceivesTheMirrorThroughADedupeBuffer()
    {
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddWatcherSync().AddPrefix("/app/").AddBufferedSink<RecordingCallbacks>(o => o.BatchSize = 2);
        using IHost host = builder.Build();
        InMemoryBackend store = host.Services.GetRequiredService<InMemoryBackend>();
        for (int i = 0; i < 5; i++)
        {
            await store.CreateAsync(new KVPair(new PathKey($"/app/{i}"), i));
        }

        RecordingCallbacks sink = host.Services.GetRequiredService<RecordingCallbacks>();
        await host.StartAsync();
        await Eventually.True(() => sink.LastStatus == SyncStatus.InSync && sink.Picture.Count == 5, "the buffered sink gets the five keys and InSync");
        sink.UpdateBatches.Should().OnlyContain(b => b.Length <= 2, "the buffer hands the sink batches of its configured size");
        await host.StopAsync();
        sink.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task Host_StopWhileABufferedSinkIsBusy_TheSinkStillGetsEveryKeyDeleted()
    {
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddWatcherSync().AddPrefix("/app/").AddBufferedSink<RecordingCallbacks>();
        using IHost host = builder.Build();
        InMemoryBackend store = host.Services.GetRequiredService<InMemoryBackend>();
        for (int i = 0; i < 5; i++)
        {
            await store.CreateAsync(new KVPair(new PathKey($"/app/{i}"), i));
        }

        RecordingCallbacks sink = host.Services.GetRequiredService<RecordingCallbacks>();
        await host.StartAsync();
        await Eventually.True(() => sink.LastStatus == SyncStatus.InSync && sink.Picture.Count == 5, "the buffered sink gets the five keys");

        // The sink is busy with a write when the host stops: the stop's deletes queue up behind it.
        using var gate = new ManualResetEventSlim(false);
        sink.UpdatesGate = gate;
        int entered = sink.UpdatesEntered;
        await store.CreateAsync(new KVPair(new PathKey("/app/5"), 5));
        await Eventually.True(() => sink.UpdatesEntered == entered + 1, "the sink is inside OnUpdates");
        Task stopping = host.StopAsync();
        await Eventually.Within(host.Services.GetRequiredService<WatcherSyncer>().StopAsync(), "the syncer has stopped and queued its deletes");
        gate.Set();
        await Eventually.Within(stopping, "the host stops once the sink has what was queued");

        sink.Picture.Should().BeEmpty("a buffered sink is told every key is deleted at stop, as a direct sink is");
        sink.Violations.Should().BeEmpty();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Host_ShutdownTimeoutRunsOutOnAStuckSink_DisposeReturns(bool buffered)
    {
        // Buffered: the buffer is stopped and what is left is dropped. Direct: the syncer's stop, held by the stuck
        // call, is abandoned. Either way the process must be able to end.
        HostApplicationBuilder builder = TestHost.Builder();
        WatcherSyncBuilder sync = builder.Services.AddWatcherSync().AddPrefix("/app/");
        _ = buffered ? sync.AddBufferedSink<RecordingCallbacks>() : sync.AddSink<RecordingCallbacks>();
        IHost host = builder.Build();
        InMemoryBackend store = host.Services.GetRequiredService<InMemoryBackend>();
        await store.CreateAsync(new KVPair(new PathKey("/app/0"), 0));
        RecordingCallbacks sink = host.Services.GetRequiredService<RecordingCallbacks>();
        await host.StartAsync();
        await Eventually.True(() => sink.LastStatus == SyncStatus.InSync && sink.Picture.Count == 1, "the sink gets the key");

        // The sink hangs inside a call and stays stuck for the rest of the test.
        using var gate = new ManualResetEventSlim(false);
        sink.UpdatesGate = gate;
        int entered = sink.UpdatesEntered;
        await store.CreateAsync(new KVPair(new PathKey("/app/1"), 1));
        await Eventually.True(() => sink.UpdatesEntered == entered + 1, "the sink is stuck inside OnUpdates");
        try
        {
            // The host's shutdown timeout has run out: its token is already cancelled.
            using var expired = new CancellationTokenSource();
            await expired.CancelAsync();
            Task stopping = host.StopAsync(expired.Token);
            await Eventually.True(() => stopping.IsCompleted, "the host gives up stopping when its timeout runs out");
            await Eventually.Within(((IAsyncDisposable)host).DisposeAsync().AsTask(), "disposing the host returns while the sink is still stuck");
            host.Services.Invoking(s => s.GetService<WatcherSyncer>()).Should().Throw<ObjectDisposedException>("the host is disposed");
        }
        finally
        {
            gate.Set();
        }
    }

    [Fact]
    public async Task Host_DirectSinkThrows_TheOtherSinksStillGetEveryCallAndTheFailureIsLogged()
    {
        var logs = new FakeLogCollector();
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddSingleton(FakeLogs.Factory(logs));
        builder.Services.AddWatcherSync().AddPrefix("/app/").AddSink<ThrowingSink>().AddSink<RecordingCallbacks>();
        using IHost host = builder.Build();
        await host.Services.GetRequiredService<InMemoryBackend>().CreateAsync(new KVPair(new PathKey("/app/a"), "1"));
        RecordingCallbacks sink = host.Services.GetRequiredService<RecordingCallbacks>();

        await host.StartAsync();
        await Eventually.True(() => sink.LastStatus == SyncStatus.InSync && sink.Picture.Count == 1, "the second sink gets the mirror");
        await host.StopAsync();
        logs.GetSnapshot().Should().Contain(e => e.Id.Id == 5002 && e.Exception is InvalidOperationException);
        logs.GetSnapshot().Should().Contain(e => e.Id.Id == 5000).And.Contain(e => e.Id.Id == 5001);
    }

    [Fact]
    public async Task Host_DirectSinkThrows_HealthIsDegradedWithTheFailure_ThoughTheSyncerIsInSync()
    {
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddWatcherSync().AddPrefix("/app/").AddSink<ThrowingSink>();
        builder.Services.AddHealthChecks().AddWatcherSync();
        using IHost host = builder.Build();
        await host.Services.GetRequiredService<InMemoryBackend>().CreateAsync(new KVPair(new PathKey("/app/a"), "1"));

        await host.StartAsync();
        await Eventually.Within(host.Services.GetRequiredService<WatcherSyncPipeline>().Syncer.WaitForInSyncAsync(), "the syncer is in sync");
        HealthCheckService health = host.Services.GetRequiredService<HealthCheckService>();
        HealthReport report = await health.CheckHealthAsync();
        await Eventually.True(
            () => (report = health.CheckHealthAsync().GetAwaiter().GetResult()).Entries["watchersync"].Status != HealthStatus.Healthy,
            "a sink that threw has missed what that call carried: the host is not healthy although the syncer is in sync");
        report.Entries["watchersync"].Status.Should().Be(HealthStatus.Degraded, "the service goes on (AddSink), with a sink that may lack keys");
        report.Entries["watchersync"].Exception.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Be("the sink is broken");
        report.Entries["watchersync"].Description.Should().Contain(nameof(ThrowingSink));
        await host.StopAsync();
    }

    [Fact]
    public async Task Host_BufferedSinkThrows_TheServiceFailsTheHostStopsAndHealthIsUnhealthy()
    {
        var logs = new FakeLogCollector();
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddSingleton(FakeLogs.Factory(logs));
        builder.Services.AddWatcherSync().AddPrefix("/app/").AddBufferedSink<ThrowingSink>();
        builder.Services.AddHealthChecks().AddWatcherSync();
        using IHost host = builder.Build();
        await host.Services.GetRequiredService<InMemoryBackend>().CreateAsync(new KVPair(new PathKey("/app/a"), "1"));
        IHostApplicationLifetime lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();

        await host.StartAsync();
        await Eventually.True(() => lifetime.ApplicationStopping.IsCancellationRequested, "a failed buffered sink stops the host (BackgroundServiceExceptionBehavior.StopHost)");
        HealthReport report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        report.Entries["watchersync"].Status.Should().Be(HealthStatus.Unhealthy);
        report.Entries["watchersync"].Exception.Should().BeOfType<InvalidOperationException>();
        logs.GetSnapshot().Should().Contain(e => e.Id.Id == 5003 && e.Level == LogLevel.Critical);
        await host.StopAsync();
    }

    [Fact]
    public async Task StopAsync_BeforeStart_StopsForGoodAndCanBeRepeated()
    {
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddWatcherSync().AddPrefix("/app/");
        using IHost host = builder.Build();
        IHostedService service = host.Services.GetServices<IHostedService>().Single(s => s is WatcherSyncHostedService);

        await service.StopAsync(CancellationToken.None);
        await service.StopAsync(CancellationToken.None);
        host.Services.GetRequiredService<WatcherSyncPipeline>().State.Should().Be(PipelineState.Stopped);
        host.Services.GetRequiredService<WatcherSyncPipeline>().Invoking(p => p.Start()).Should().Throw<InvalidOperationException>();
    }

    /// <summary>A sink whose every update call throws.</summary>
    private sealed class ThrowingSink : ISyncerCallbacks
    {
        public void OnStatusUpdated(SyncStatus status)
        {
        }

        public void OnUpdates(IReadOnlyList<Update> updates) => throw new InvalidOperationException("the sink is broken");
    }
}
