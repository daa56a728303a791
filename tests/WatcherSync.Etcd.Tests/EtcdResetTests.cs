using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Etcd.Tests.Infrastructure.WatchReader;

namespace WatcherSync.Etcd.Tests;

/// <summary>A server whose data is wiped under a running watch: its revision goes backwards.</summary>
public sealed class EtcdResetTests : IAsyncLifetime
{
    private EtcdProcess _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdProcess.StartAsync();

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    [Fact]
    public async Task Watch_StoreWipedAndRestarted_EndsWithDatastoreReset()
    {
        await using var client = new EtcdBackendClient(TestOptions.For(_etcd.ClientUrl));
        KVPairList start = await client.ListAsync(new PrefixListOptions("/w/"));
        await using IWatch watch = await client.WatchAsync(new PrefixListOptions("/w/"), new WatchOptions(start.Revision));
        for (int i = 0; i < 20; i++)
        {
            await client.ApplyAsync(new KVPair(new PathKey($"/w/k{i}"), "v"));
        }

        (await ReadAsync(watch, 20)).Should().HaveCount(20);

        _etcd.Kill();
        Directory.Delete(_etcd.DataDir, recursive: true);
        await _etcd.StartAgainAsync();
        await client.ApplyAsync(new KVPair(new PathKey("/w/after"), "v"));

        Exception error = await ErrorAsync(watch, TimeSpan.FromSeconds(30));
        error.Should().BeOfType<DatastoreResetException>().Which.IsTransient.Should().BeFalse();
        error.Message.Should().Contain("below revision");
    }

    [Fact]
    public async Task Syncer_StoreWipedAndRestarted_RelistsAndResendsEveryKey()
    {
        await using var proxy = new TcpProxy(_etcd.ClientUrl);
        await using var client = new EtcdBackendClient(TestOptions.For(proxy.Url));
        await using var direct = new EtcdBackendClient(TestOptions.For(_etcd.ClientUrl));
        for (int i = 0; i < 20; i++)
        {
            await direct.ApplyAsync(new KVPair(new PathKey($"/s/k{i}"), "old"));
        }

        var callbacks = new RecordingCallbacks();
        var options = new WatcherSyncerOptions { MinResyncInterval = TimeSpan.FromMilliseconds(10), ListRetryInterval = TimeSpan.FromMilliseconds(100), Backoff = { InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(500) } };
        await using var syncer = new WatcherSyncer(client, [new ResourceType(new PrefixListOptions("/s/"))], callbacks, options);
        syncer.Start();
        await Eventually.True(() => callbacks.LastStatus == SyncStatus.InSync && callbacks.Picture.Count == 20, "the first sync completes");

        proxy.Cut();
        _etcd.Kill();
        Directory.Delete(_etcd.DataDir, recursive: true);
        await _etcd.StartAgainAsync();

        // The new store gives k0 the revision it had before (2), with another value: only a relist that compares no
        // revisions sees it. The syncer is kept off until then.
        (await direct.ApplyAsync(new KVPair(new PathKey("/s/k0"), "new"))).Revision.Should().Be("2");
        proxy.Restore();
        await Eventually.True(
            () => callbacks.LastStatus == SyncStatus.InSync && callbacks.Picture.Count == 1 && callbacks.Picture.TryGetValue("/s/k0", out object? v) && v is byte[] b && b.SequenceEqual("new"u8.ToArray()),
            "the syncer relists the wiped store and converges on it",
            TimeSpan.FromSeconds(40));
        callbacks.Violations.Should().BeEmpty();
    }
}
