using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Hosting.Tests;

/// <summary>Several syncers in one host: named options, keyed services, a hosted service and a health check each.</summary>
public sealed class NamedSyncerTests
{
    [Fact]
    public async Task Host_TwoNamedSyncersAndTheUnnamedOne_EachMirrorsItsPrefixesIntoItsOwnSinks()
    {
        var pods = new RecordingCallbacks();
        var nodes = new RecordingCallbacks();
        var all = new RecordingCallbacks();
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddWatcherSync(o => o.Syncer.Name = "all").AddPrefix("/registry/").AddSink(_ => all);
        builder.Services.AddWatcherSync("pods", o => o.Syncer.Name = "pods").AddPrefix("/registry/pods/").AddSink(_ => pods);
        builder.Services.AddWatcherSync("nodes", o => o.Prefixes.Add("/registry/nodes/")).AddSink(_ => nodes);
        builder.Services.AddHealthChecks().AddWatcherSync().AddWatcherSync("pods-check", "pods", null, ["ready"]).AddWatcherSync("nodes-check", "nodes", null, null);
        using IHost host = builder.Build();
        InMemoryBackend store = host.Services.GetRequiredService<InMemoryBackend>();
        await store.CreateAsync(new KVPair(new PathKey("/registry/pods/a"), "1"));
        await store.CreateAsync(new KVPair(new PathKey("/registry/nodes/n"), "1"));

        await host.StartAsync();
        await Eventually.True(() => pods.LastStatus == SyncStatus.InSync && nodes.LastStatus == SyncStatus.InSync && all.LastStatus == SyncStatus.InSync, "every syncer is in sync");
        pods.Picture.Keys.Should().Equal("/registry/pods/a");
        nodes.Picture.Keys.Should().Equal("/registry/nodes/n");
        all.Picture.Keys.Should().BeEquivalentTo(["/registry/pods/a", "/registry/nodes/n"]);

        WatcherSyncer podsSyncer = host.Services.GetRequiredKeyedService<WatcherSyncer>("pods");
        podsSyncer.Should().NotBeSameAs(host.Services.GetRequiredKeyedService<WatcherSyncer>("nodes")).And.NotBeSameAs(host.Services.GetRequiredService<WatcherSyncer>());
        host.Services.GetRequiredKeyedService<SharedWatcherSyncer>("pods").Syncer.Should().BeSameAs(podsSyncer);
        host.Services.GetRequiredService<IOptionsMonitor<WatcherSyncOptions>>().Get("pods").Syncer.Name.Should().Be("pods");

        HealthReport report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        report.Entries.Keys.Should().BeEquivalentTo(["watchersync", "pods-check", "nodes-check"]);
        report.Entries.Values.Should().OnlyContain(e => e.Status == HealthStatus.Healthy);
        report.Entries["pods-check"].Data["keys"].Should().Be(1L);
        report.Entries["pods-check"].Tags.Should().Equal("ready");

        await host.StopAsync();
        pods.Picture.Should().BeEmpty("each named syncer runs and stops with the host");
        nodes.Picture.Should().BeEmpty();
        all.Picture.Should().BeEmpty();
    }

    [Fact]
    public async Task HostStart_OnlyNamedSyncers_TheUnnamedOptionsNeedNoPrefix_ButANamedSyncerWithoutOneFailsNamingIt()
    {
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddWatcherSync("pods", _ => { }).AddPrefix("/registry/pods/");
        builder.Services.AddWatcherSync("empty", _ => { });
        builder.Services.Count(d => d.ServiceType == typeof(IHostedService)).Should().Be(2, "one hosted service per named syncer, none for an unnamed one never added");
        using IHost host = builder.Build();

        Func<Task> start = () => host.StartAsync();
        OptionsValidationException error = (await start.Should().ThrowAsync<OptionsValidationException>()).Which;
        error.OptionsName.Should().Be("empty");
        error.Message.Should().Contain("WatcherSync 'empty':Prefixes: at least one prefix");
    }
}
