using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using Xunit;

namespace WatcherSync.Aot.Tests;

/// <summary>
/// The QuickStart as a native AOT binary: published with PublishAot (the trim and AOT analysis of the sample and of
/// every library it uses passes with warnings as errors), then run on the embedded store and on a real etcd.
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

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private async Task<string[]> Keys(string prefix)
    {
        await using var client = new WatcherSync.Etcd.EtcdBackendClient(etcd.Options());
        KVPairList list = await client.ListAsync(new PrefixListOptions($"{prefix}/"));
        return [.. list.KVPairs.Select(pair => pair.Key.DefaultPath)];
    }
}
