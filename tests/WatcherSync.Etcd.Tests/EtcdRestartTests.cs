using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using Xunit;
using static WatcherSync.Etcd.Tests.Infrastructure.WatchReader;

namespace WatcherSync.Etcd.Tests;

/// <summary>Servers killed with SIGKILL under a running watch: a server of its own per test.</summary>
public sealed class EtcdRestartTests : IAsyncLifetime
{
    private EtcdProcess _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdProcess.StartAsync();

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    [Fact]
    public async Task Watch_ServerKilledAndRestarted_ResumesFromTheLastRevision_NothingLostOrDuplicated()
    {
        await using var client = new EtcdBackendClient(TestOptions.For(_etcd.ClientUrl));
        KVPairList start = await client.ListAsync(new PrefixListOptions("/r/"));
        await using IWatch watch = await client.WatchAsync(new PrefixListOptions("/r/"), new WatchOptions(start.Revision));
        var written = new List<string>();
        for (int i = 0; i < 50; i++)
        {
            written.Add((await client.ApplyAsync(new KVPair(new PathKey($"/r/k{i % 7}"), $"v{i}"))).Revision!);
        }

        List<WatchEvent> events = await ReadAsync(watch, 20);

        _etcd.Kill();
        await _etcd.StartAgainAsync();
        for (int i = 50; i < 100; i++)
        {
            written.Add((await client.ApplyAsync(new KVPair(new PathKey($"/r/k{i % 7}"), $"v{i}"))).Revision!);
        }

        events.AddRange(await ReadAsync(watch, 80, TimeSpan.FromSeconds(40)));
        events.Select(e => e.Revision).Should().Equal(written, "every acknowledged write arrives once, in order");
        events.Select(e => (string)System.Text.Encoding.UTF8.GetString((byte[])e.New!.Value!)).Should().Equal(Enumerable.Range(0, 100).Select(i => $"v{i}"));
    }
}
