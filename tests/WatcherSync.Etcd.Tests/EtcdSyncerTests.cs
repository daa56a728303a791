using System.Text;
using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Etcd.Tests.Infrastructure.WatchReader;

namespace WatcherSync.Etcd.Tests;

[Collection(EtcdCollection.Name)]
public sealed class EtcdSyncerTests(EtcdFixture etcd) : IAsyncLifetime
{
    private readonly string _prefix = $"/syncer/{Guid.NewGuid():N}/";
    private TcpProxy _proxy = null!;
    private EtcdBackendClient _direct = null!;

    public Task InitializeAsync()
    {
        _proxy = new TcpProxy(etcd.Endpoint);
        _direct = new EtcdBackendClient(etcd.Options());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _direct.DisposeAsync();
        await _proxy.DisposeAsync();
    }

    [Fact]
    public async Task Syncer_CompactionWhileDisconnected_RelistsAndTheSinkConverges()
    {
        foreach (string name in new[] { "a", "b", "c" })
        {
            await _direct.CreateAsync(new KVPair(new PathKey(_prefix + name), "1"));
        }

        EtcdClientOptions options = TestOptions.For(_proxy.Url);
        options.SyncerOptions = new WatcherSyncerOptions { MinResyncInterval = TimeSpan.FromMilliseconds(50), ListRetryInterval = TimeSpan.FromMilliseconds(200), Backoff = { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1) } };
        await using var client = new EtcdBackendClient(options);
        var sink = new RecordingCallbacks();
        await using ISyncer syncer = client.CreateSyncer([new ResourceType(new PrefixListOptions(_prefix))], sink);
        syncer.Start();
        await Eventually.True(() => sink.LastStatus == SyncStatus.InSync && sink.Picture.Count == 3, "the first sync completes");
        int statusesBefore = sink.Statuses.Count;

        _proxy.Cut();
        await _direct.DeleteAsync(new PathKey(_prefix + "b"));
        await _direct.UpdateAsync(new KVPair(new PathKey(_prefix + "a"), "2"));
        KVPair d = await _direct.CreateAsync(new KVPair(new PathKey(_prefix + "d"), "1"));
        await _direct.CompactAsync(d.Revision);
        _proxy.Restore();

        await Eventually.True(
            () => sink.LastStatus == SyncStatus.InSync && Snapshot(sink).SequenceEqual([(_prefix + "a", "2"), (_prefix + "c", "1"), (_prefix + "d", "1")]),
            "the syncer relists after the compaction and the sink converges, b deleted");
        sink.Statuses.Skip(statusesBefore).Should().Contain(SyncStatus.ResyncInProgress, "a compaction forces a relist");
        sink.AllUpdates.Should().Contain(u => u.UpdateType == UpdateType.Deleted && u.KVPair.Key.DefaultPath == _prefix + "b");
        sink.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task UndecodableValues_ComeAsInvalidValueInListsAndWatches_AndGetThrowsValueParseException()
    {
        EtcdClientOptions options = etcd.Options();
        options.Codec = JsonValueCodec.For<Dictionary<string, int>>();
        await using var client = new EtcdBackendClient(options);
        KVPairList start = await client.ListAsync(new PrefixListOptions(_prefix));
        await using IWatch watch = await client.WatchAsync(new PrefixListOptions(_prefix), new WatchOptions(start.Revision));
        await RawGateway.PutManyAsync(etcd.Endpoint, [(_prefix + "bad", "not json"u8.ToArray()), (_prefix + "good", """{"n":1}"""u8.ToArray())]);

        KVPairList list = await client.ListAsync(new PrefixListOptions(_prefix));
        list.KVPairs.Select(p => p.Value!.GetType()).Should().Equal(typeof(InvalidValue), typeof(Dictionary<string, int>));
        ((InvalidValue)list.KVPairs[0].Value!).Error.RawKey.Should().Be(_prefix + "bad");
        ((InvalidValue)list.KVPairs[0].Value!).RawValue.Should().Be("not json");

        List<WatchEvent> events = await ReadAsync(watch, 2);
        events[0].New!.Value.Should().BeOfType<InvalidValue>();
        events[1].New!.Value.Should().BeEquivalentTo(new Dictionary<string, int> { ["n"] = 1 });

        Func<Task> get = () => client.GetAsync(new PathKey(_prefix + "bad"));
        (await get.Should().ThrowAsync<ValueParseException>()).Which.RawValue.Should().Be("not json");
    }

    [Fact]
    public async Task ClientLifetimeKeys_VanishWhenTheClientIsDisposed_PrefixDeleteReturnsThePairs()
    {
        var client = new EtcdBackendClient(etcd.Options());
        await client.ApplyWithClientLifetimeAsync(new KVPair(new PathKey(_prefix + "life/1"), "x"));
        await client.ApplyWithClientLifetimeAsync(new KVPair(new PathKey(_prefix + "life/2"), "y"));
        await _direct.CreateAsync(new KVPair(new PathKey(_prefix + "keep/1"), "z"));
        (await _direct.ListAsync(new PrefixListOptions(_prefix + "life/"))).KVPairs.Should().HaveCount(2);
        await client.DisposeAsync();
        (await _direct.ListAsync(new PrefixListOptions(_prefix + "life/"))).KVPairs.Should().BeEmpty("revoking the client lease removes its keys");

        IReadOnlyList<KVPair> deleted = await _direct.DeletePrefixAsync(_prefix);
        deleted.Select(p => (p.Key.DefaultPath, Encoding.UTF8.GetString((byte[])p.Value!))).Should().Equal((_prefix + "keep/1", "z"));
        (await _direct.DeletePrefixAsync(_prefix)).Should().BeEmpty();
    }

    private static List<(string, string)> Snapshot(RecordingCallbacks sink) =>
        [.. sink.Picture.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value is byte[] b ? Encoding.UTF8.GetString(b) : "?"))];
}
