using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.InMemory;
using WatcherSync.Relay.Server;
using WatcherSync.Relay.Tests;
using Xunit;

namespace WatcherSync.Aot.Tests;

/// <summary>
/// The QuickStart as a native AOT binary: published with PublishAot (the trim and AOT analysis of the sample and of
/// every library it uses passes with warnings as errors), then run on the embedded store and on a real etcd, and as a
/// host whose settings come from configuration (appsettings.json and the command line), with a second syncer fed by a
/// real relay on loopback.
/// </summary>
public sealed class AotQuickStartTests(PublishedQuickStart published, EtcdFixture etcd)
    : IClassFixture<PublishedQuickStart>, IClassFixture<EtcdFixture>
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    // What the QuickStart's callbacks print, in order: the first list, in sync, then the three writes as they arrive.
    private static readonly string[] ExpectedLines =
    [
        "New /registry/pods/web-1 = running",
        "status: InSync",
        "New /registry/pods/web-2 = pending",
        "Updated /registry/pods/web-2 = running",
        "Deleted /registry/pods/web-1 = (gone)",
        "done",
    ];

    [Fact]
    public void Publish_MakesANativeExecutableWithoutManagedAssemblies()
    {
        published.ShouldBeANativeExecutableWithoutFindings();
    }

    [Fact]
    public async Task NativeBinary_OnTheEmbeddedStore_PrintsTheQuickStartChanges()
    {
        (int exit, string output) = await published.RunAsync(RunTimeout);

        exit.Should().Be(0, output);
        Lines(output).Should().StartWith("backend: embedded").And.ContainInOrder(ExpectedLines);
    }

    [Fact]
    public async Task NativeBinary_OnEtcd_PrintsTheQuickStartChanges()
    {
        string prefix = $"/aot-{Guid.NewGuid():N}";

        (int exit, string output) = await published.RunAsync(RunTimeout, "--etcd", etcd.Endpoint, "--key-prefix", prefix);

        exit.Should().Be(0, output);
        Lines(output).Should().StartWith("backend: etcd").And.ContainInOrder(ExpectedLines);
        (await Keys(prefix)).Should().Equal([$"{prefix}/registry/pods/web-2"], "the sample wrote under its prefix: web-2 stays, web-1 was deleted");
    }

    [Fact]
    public async Task NativeBinary_Hosted_ReadsItsSettingsFromConfiguration()
    {
        (int exit, string output) = await published.RunAsync(RunTimeout, "hosted", "--WatcherSync:Syncer:MaxUpdatesPerBatch=5");

        exit.Should().Be(0, output);
        Lines(output).Should().Equal(
            [
                "hosted: prefixes=/registry/pods/ syncer=aot-hosted batch=5 retry-timeout=00:10:00 degraded-after=00:00:20 bookmark=00:00:02",
                "hosted: InSync",
            ],
            "appsettings.json gives the prefix, the syncer's name, the degraded delay and the bookmark interval, the command line the batch size, and the rest keep their defaults");
    }

    [Fact]
    public async Task NativeBinary_Hosted_ValueThatDoesNotConvert_FailsNamingTheKey()
    {
        (int exit, string output) = await published.RunAsync(RunTimeout, "hosted", "--WatcherSync:Syncer:WatchRetryTimeout=soon");

        exit.Should().Be(2, output);
        output.Should().Contain("hosted: configuration error:").And.Contain("'WatcherSync:Syncer:WatchRetryTimeout'");
    }

    [Fact]
    public async Task NativeBinary_HostedWithARelay_BindsTheRelayClientFromConfigurationAndReadsTheRelay()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey("/registry/pods/remote"), "r"));
        await store.ApplyAsync(new KVPair(new PathKey("/registry/nodes/n"), "n"));
        await using TestRelay relay = await TestRelay.StartAsync(options =>
        {
            var feed = new RelayFeedOptions { Name = "pods", Backend = store };
            feed.ResourceTypes.Add(new ResourceType(new PrefixListOptions("/registry/pods/")));
            feed.ResourceTypes.Add(new ResourceType(new PrefixListOptions("/registry/nodes/")));
            options.Feeds.Add(feed);
            options.AllowAnonymous = true;
        });

        (int exit, string output) = await published.RunAsync(
            RunTimeout,
            "hosted",
            "--Relayed:Prefixes:0=/registry/pods/",
            $"--Relayed:Relay:Endpoints:0={relay.Address}",
            "--Relayed:Relay:Feed=pods",
            "--Relayed:Relay:ClientName=aot-native",
            "--Relayed:Relay:MaxUpdatesPerBatch=3",
            "--Relayed:Relay:SilenceTimeout=00:00:45",
            "--Relayed:Relay:Compression=true");

        exit.Should().Be(0, output);
        Lines(output).Should().Contain(
            [
                $"hosted relay: endpoints={relay.Address} feed=pods client=aot-native batch=3 silence=00:00:45 compression=True",
                "hosted relay: InSync keys=/registry/pods/remote",
            ],
            "the native binary binds the relay client's options from the command line (UseRelay(IConfiguration)) and reads the relay's picture under its prefix");
    }

    [Fact]
    public async Task NativeBinary_HostedWithARelay_ValueThatDoesNotConvert_FailsNamingTheKey()
    {
        (int exit, string output) = await published.RunAsync(
            RunTimeout, "hosted", "--Relayed:Prefixes:0=/registry/pods/", "--Relayed:Relay:Endpoints:0=http://127.0.0.1:1", "--Relayed:Relay:MaxUpdatesPerBatch=0x10");

        exit.Should().Be(2, output);
        output.Should().Contain("hosted: configuration error:").And.Contain("'Relayed:Relay:MaxUpdatesPerBatch'");
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private async Task<string[]> Keys(string prefix)
    {
        await using var client = new WatcherSync.Etcd.EtcdBackendClient(etcd.Options());
        KVPairList list = await client.ListAsync(new PrefixListOptions($"{prefix}/"));
        return [.. list.KVPairs.Select(pair => pair.Key.DefaultPath)];
    }
}
