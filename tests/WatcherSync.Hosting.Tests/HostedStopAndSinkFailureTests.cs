using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Hosting.Tests;

/// <summary>The hosted syncer's stop, on its health options, and on how a sink's failure is seen.</summary>
public sealed class HostedStopAndSinkFailureTests
{
    [Fact]
    public async Task HostStop_ASinkThatImplementsISyncerStoppingCallbacks_IsToldBeforeTheStopsDeletes()
    {
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddSingleton<StoppingAwareSink>();
        builder.Services.AddWatcherSync().AddPrefix("/app/").AddSink<StoppingAwareSink>();
        using IHost host = builder.Build();
        await host.Services.GetRequiredService<InMemoryBackend>().CreateAsync(new KVPair(new PathKey("/app/a"), "1"));
        StoppingAwareSink sink = host.Services.GetRequiredService<StoppingAwareSink>();

        await host.StartAsync();
        await Eventually.True(() => sink.Calls.Contains("InSync"), "the hosted syncer reaches InSync");
        await host.StopAsync();

        sink.Calls.Should().ContainInOrder(["Stopping", "Deleted /app/a"], "a hosted sink, like any syncer callbacks, is told of the stop before its deletes");
    }

    [Fact]
    public async Task AddSinkThrew_TheSharedWatcherSyncerTheAppResolves_KeepsTheFailure_AsHealthDoes()
    {
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddWatcherSync().AddPrefix("/app/").AddSink(_ => new ThrowingOnceSink());
        builder.Services.AddHealthChecks().AddWatcherSync();
        using IHost host = builder.Build();
        await host.Services.GetRequiredService<InMemoryBackend>().CreateAsync(new KVPair(new PathKey("/app/a"), "1"));

        await host.StartAsync();
        HealthCheckService health = host.Services.GetRequiredService<HealthCheckService>();
        await Eventually.True(
            () => health.CheckHealthAsync().GetAwaiter().GetResult().Entries["watchersync"].Data.ContainsKey("sinkThrew"),
            "the health check has seen the sink throw");

        // docs/hosting.md: "Outside hosting, the same fact is ISyncer.CallbackFailure (... SharedWatcherSyncer ...), and
        // WaitForInSyncAsync fails with it"; docs/syncer.md: "Hosting reads it for its health check".
        ISyncer syncer = host.Services.GetRequiredService<SharedWatcherSyncer>();
        syncer.CallbackFailure.Should().NotBeNull("the hosted syncer the application resolves has a sink that threw, as its health check says");
        await host.StopAsync();
    }
}
