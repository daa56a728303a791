using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Hosting.Tests;

/// <summary>Attacks on the hosted syncer's stop and on its health options.</summary>
public sealed class RedHostingTests
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
}
