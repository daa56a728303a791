using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Hosting.Tests;

/// <summary>The hosted fan-out: every sink is a handler of one shared syncer, behind a DedupeBuffer of its own.</summary>
public sealed class SharedFanOutTests
{
    [Fact]
    public async Task Host_ASinkStuckInACall_DoesNotDelayTheOtherSinks()
    {
        var slow = new RecordingCallbacks();
        var fast = new RecordingCallbacks();
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddWatcherSync().AddPrefix("/app/").AddSink(_ => slow).AddSink(_ => fast);
        using IHost host = builder.Build();
        InMemoryBackend store = host.Services.GetRequiredService<InMemoryBackend>();
        await host.StartAsync();
        await Eventually.True(() => slow.LastStatus == SyncStatus.InSync && fast.LastStatus == SyncStatus.InSync, "both sinks are in sync");

        using var gate = new ManualResetEventSlim(false);
        slow.UpdatesGate = gate;
        try
        {
            await store.CreateAsync(new KVPair(new PathKey("/app/1"), 1));
            await Eventually.True(() => slow.UpdatesEntered == 1, "the slow sink is stuck inside OnUpdates");
            await store.CreateAsync(new KVPair(new PathKey("/app/2"), 2));
            await store.CreateAsync(new KVPair(new PathKey("/app/3"), 3));
            await Eventually.True(() => fast.Picture.Count == 3, "the other sink gets every write while the slow one is stuck");
        }
        finally
        {
            gate.Set();
        }

        await Eventually.True(() => slow.Picture.Count == 3, "the slow sink catches up once its call returns");
        await host.StopAsync();
        slow.Picture.Should().BeEmpty();
        fast.Picture.Should().BeEmpty();
        slow.Violations.Should().BeEmpty();
        fast.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task Health_ASinkNotYetGivenTheWholePicture_IsDegradedUntilItHasIt()
    {
        var slow = new RecordingCallbacks();
        var fast = new RecordingCallbacks();
        using var gate = new ManualResetEventSlim(false);
        slow.UpdatesGate = gate;
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddWatcherSync().AddPrefix("/app/").AddSink(_ => slow).AddSink(_ => fast);
        builder.Services.AddHealthChecks().AddWatcherSync();
        using IHost host = builder.Build();
        await host.Services.GetRequiredService<InMemoryBackend>().CreateAsync(new KVPair(new PathKey("/app/a"), "1"));
        HealthCheckService health = host.Services.GetRequiredService<HealthCheckService>();
        try
        {
            await host.StartAsync();
            await Eventually.True(() => fast.LastStatus == SyncStatus.InSync, "the fast sink has the whole picture");
            await Eventually.True(() => slow.UpdatesEntered == 1, "the slow sink is stuck in its first OnUpdates");

            HealthReportEntry entry = (await health.CheckHealthAsync()).Entries["watchersync"];
            entry.Status.Should().Be(HealthStatus.Degraded, "one sink has not been given the whole picture yet: {0}", entry.Description);
            entry.Data["sinks"].Should().Be(2);
            entry.Data["sinksSynced"].Should().Be(1);
        }
        finally
        {
            gate.Set();
        }

        await Eventually.True(() => slow.LastStatus == SyncStatus.InSync, "the slow sink syncs once its call returns");
        HealthReportEntry after = (await health.CheckHealthAsync()).Entries["watchersync"];
        after.Status.Should().Be(HealthStatus.Healthy, after.Description);
        after.Data["sinksSynced"].Should().Be(2);
        await host.StopAsync();
    }
}
