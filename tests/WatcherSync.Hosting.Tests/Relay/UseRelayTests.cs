using System.Text;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WatcherSync.InMemory;
using WatcherSync.Relay;
using WatcherSync.Relay.Server;
using WatcherSync.Relay.Tests;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Hosting.Tests.Relay;

/// <summary>UseRelay: a real generic host whose syncer is a client of a real relay on loopback.</summary>
public sealed class UseRelayTests
{
    private const string Pods = "/registry/pods/";

    [Fact]
    public async Task Host_UseRelayWithAWrongToken_HealthSaysTheRelayRefused_NotWaitingForTheDatastore()
    {
        await using var store = new InMemoryBackend();
        await using TestRelay relay = await TestRelay.StartAsync(options =>
        {
            var feed = new RelayFeedOptions { Name = "default", Backend = store };
            feed.ResourceTypes.Add(new ResourceType(new PrefixListOptions(Pods)));
            options.Feeds.Add(feed);
            options.AllowAnonymous = false;
            options.BearerTokens.Add("s3cret");
        });
        var sink = new RecordingCallbacks();
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddWatcherSync()
            .AddPrefix(Pods)
            .UseRelay(o =>
            {
                o.Endpoints.Add(relay.Address);
                o.BearerToken = "guess";
                o.MinReconnectDelay = TimeSpan.FromMilliseconds(20);
                o.MaxReconnectDelay = TimeSpan.FromMinutes(10);
                o.DisconnectedTimeout = TimeSpan.FromMinutes(10);
            })
            .AddSink(_ => sink);
        builder.Services.AddHealthChecks().AddWatcherSync();
        using IHost host = builder.Build();
        HealthCheckService health = host.Services.GetRequiredService<HealthCheckService>();

        await host.StartAsync();
        await Eventually.True(
            () => sink.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Any(c => c.Error is RelayRefusedException),
            "the relay refuses the token at once (SyncFailed with a RelayRefusedException)",
            TimeSpan.FromSeconds(10));

        HealthReportEntry entry = (await health.CheckHealthAsync()).Entries["watchersync"];
        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Exception.Should().BeOfType<RelayRefusedException>(
            "the relay refused the token: the health endpoint an operator reads says so, with the reason (it says \"{0}\")", entry.Description);
        await host.StopAsync();
    }

    [Fact]
    public async Task Host_UseRelayInCode_SinksGetTheRelaysPictureAndLiveUpdates_HealthFollows_StopEmptiesThem()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Pods + "a"), "1"));
        await store.ApplyAsync(new KVPair(new PathKey("/registry/nodes/n"), "1"));
        await using TestRelay relay = await TestRelay.StartAsync(Feed(store));
        var sink = new RecordingCallbacks();
        var buffered = new RecordingCallbacks();
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddWatcherSync(o => o.Syncer.Name = "relayed")
            .AddPrefix(Pods)
            .UseRelay(o =>
            {
                o.Endpoints.Add(relay.Address);
                o.ClientName = "hosted";
                o.MinReconnectDelay = TimeSpan.FromMilliseconds(20);
                o.MaxReconnectDelay = TimeSpan.FromMilliseconds(300);
                o.DisconnectedTimeout = TimeSpan.FromMilliseconds(300);
            })
            .AddSink(_ => sink)
            .AddBufferedSink(_ => buffered);
        builder.Services.AddHealthChecks().AddWatcherSync();
        using IHost host = builder.Build();
        HealthCheckService health = host.Services.GetRequiredService<HealthCheckService>();
        (await health.CheckHealthAsync()).Status.Should().Be(HealthStatus.Unhealthy, "the syncer has not started");

        await host.StartAsync();
        await Eventually.True(() => sink.LastStatus == SyncStatus.InSync && buffered.LastStatus == SyncStatus.InSync, "both sinks are in sync");
        Text(sink.Picture).Should().Equal(new Dictionary<string, string> { [Pods + "a"] = "1" }, "the relay's picture under the syncer's prefix");
        Text(buffered.Picture).Should().Equal(Text(sink.Picture));
        host.Services.GetRequiredService<SharedWatcherSyncer>().Status.Should().Be(SyncStatus.InSync);
        Action resolveDirect = () => host.Services.GetRequiredService<WatcherSyncer>();
        resolveDirect.Should().Throw<InvalidOperationException>().WithMessage("*reads Relay*SharedWatcherSyncer*");

        await store.ApplyAsync(new KVPair(new PathKey(Pods + "b"), "2"));
        await store.DeleteAsync(new PathKey(Pods + "a"));
        await Eventually.True(
            () => sink.Picture.Keys.SequenceEqual([Pods + "b"]) && buffered.Picture.Keys.SequenceEqual([Pods + "b"]),
            "the live updates reach both sinks");
        Text(sink.Picture)[Pods + "b"].Should().Be("2");

        HealthReportEntry entry = (await health.CheckHealthAsync()).Entries["watchersync"];
        entry.Status.Should().Be(HealthStatus.Healthy, entry.Description);
        entry.Data["status"].Should().Be(nameof(SyncStatus.InSync));
        entry.Data["keys"].Should().Be(1L);
        entry.Data["sinksSynced"].Should().Be(2);

        await relay.KillAsync();
        await Eventually.True(() => sink.LastStatus == SyncStatus.WaitForDatastore, "the sink is told the relay is gone (after DisconnectedTimeout)");
        entry = (await health.CheckHealthAsync()).Entries["watchersync"];
        entry.Status.Should().Be(HealthStatus.Unhealthy, "the relay client waits for a relay");
        entry.Data["status"].Should().Be(nameof(SyncStatus.WaitForDatastore));
        sink.Picture.Keys.Should().Equal([Pods + "b"], "the last picture is kept while waiting");

        await Eventually.Within(host.StopAsync(), "the host stops while the relay is down");
        sink.Picture.Should().BeEmpty("every key is reported deleted at stop, as for a direct syncer");
        buffered.Picture.Should().BeEmpty();
        sink.Violations.Should().BeEmpty();
        buffered.Violations.Should().BeEmpty();
        (await health.CheckHealthAsync()).Status.Should().Be(HealthStatus.Unhealthy, "the syncer has stopped");
    }

    [Fact]
    public async Task Host_UseRelayFromConfiguration_ANamedSyncerReadsTheRelay_BesideOneOnTheDatastore()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Pods + "remote"), "r"));
        await using TestRelay relay = await TestRelay.StartAsync(Feed(store));
        var relayed = new RecordingCallbacks();
        var local = new RecordingCallbacks();
        HostApplicationBuilder builder = TestHost.Builder(new Dictionary<string, string?>
        {
            ["WatcherSync:Prefixes:0"] = Pods,
            ["Relayed:Prefixes:0"] = Pods,
            ["Relayed:Relay:Endpoints:0"] = relay.Address.ToString(),
            ["Relayed:Relay:ClientName"] = "from-configuration",
            ["Relayed:Relay:MinReconnectDelay"] = "00:00:00.020",
        });
        builder.Services.AddWatcherSync(builder.Configuration.GetSection("WatcherSync")).AddSink(_ => local);
        builder.Services.AddWatcherSync("relayed", builder.Configuration.GetSection("Relayed"))
            .UseRelay(builder.Configuration.GetSection("Relayed:Relay"))
            .AddSink(_ => relayed);
        builder.Services.AddHealthChecks().AddWatcherSync("relayed-check", "relayed", null, null);
        using IHost host = builder.Build();
        InMemoryBackend hostStore = host.Services.GetRequiredService<InMemoryBackend>();
        await hostStore.ApplyAsync(new KVPair(new PathKey(Pods + "local"), "l"));

        await host.StartAsync();
        await Eventually.True(() => relayed.LastStatus == SyncStatus.InSync && local.LastStatus == SyncStatus.InSync, "both syncers are in sync");
        relayed.Picture.Keys.Should().Equal(Pods + "remote");
        local.Picture.Keys.Should().Equal(Pods + "local");
        RelaySyncerOptions options = host.Services.GetRequiredService<IOptionsMonitor<RelaySyncerOptions>>().Get("relayed");
        options.ClientName.Should().Be("from-configuration");
        options.Prefixes.Should().Equal(Pods);
        (await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["relayed-check"].Status.Should().Be(HealthStatus.Healthy);
        host.Services.GetRequiredService<WatcherSyncer>().Should().NotBeNull("the unnamed syncer reads the host's datastore");
        Action resolveRelayed = () => host.Services.GetRequiredKeyedService<WatcherSyncer>("relayed");
        resolveRelayed.Should().Throw<InvalidOperationException>();

        await Eventually.Within(host.StopAsync(), "the host stops");
        relayed.Picture.Should().BeEmpty();
        local.Picture.Should().BeEmpty();
    }

    [Fact]
    public async Task HostStart_RelayWithoutEndpointsOrWithACustomResourceType_FailsSayingWhy()
    {
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddWatcherSync(_ => { }).AddPrefix(Pods).UseRelay(_ => { });
        using (IHost host = builder.Build())
        {
            Func<Task> start = () => host.StartAsync();
            (await start.Should().ThrowAsync<OptionsValidationException>())
                .Which.Failures.Should().Equal("WatcherSync:Relay: At least one relay endpoint is needed.");
        }

        HostApplicationBuilder custom = TestHost.Builder();
        custom.Services.AddWatcherSync(_ => { })
            .AddResourceType(new ResourceType(new PrefixListOptions(Pods), new PassThroughProcessor()))
            .UseRelay(o => o.Endpoints.Add(new Uri("http://127.0.0.1:1")));
        using IHost customHost = custom.Build();
        Func<Task> customStart = () => customHost.StartAsync();
        (await customStart.Should().ThrowAsync<InvalidOperationException>())
            .WithMessage("*reads a relay, which serves key prefixes*update processor*");
    }

    /// <summary>One anonymous feed over <paramref name="store"/>: pods and nodes (a client asks for some of a feed's prefixes).</summary>
    private static Action<RelayServerOptions> Feed(IBackendClient store) => options =>
    {
        var feed = new RelayFeedOptions { Name = "default", Backend = store };
        feed.ResourceTypes.Add(new ResourceType(new PrefixListOptions(Pods)));
        feed.ResourceTypes.Add(new ResourceType(new PrefixListOptions("/registry/nodes/")));
        options.Feeds.Add(feed);
        options.AllowAnonymous = true;
    };

    private static Dictionary<string, string> Text(Dictionary<string, object?> picture) =>
        picture.ToDictionary(p => p.Key, p => p.Value is byte[] bytes ? Encoding.UTF8.GetString(bytes) : p.Value?.ToString() ?? "<null>", StringComparer.Ordinal);

    private sealed class PassThroughProcessor : ISyncerUpdateProcessor
    {
        public IReadOnlyList<KVPair> Process(KVPair kv) => [kv];

        public void OnSyncerStarting()
        {
        }
    }
}
