using System.Text;
using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Relay.Server;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>Resume without a snapshot at its edges: pictures a resumed client must not end up with (an older value back, a stale key kept).</summary>
public sealed class RelayResumeEdgeTests
{
    [Fact]
    public async Task KeyDroppedForAnUndecodableValue_FailoverByDigest_DoesNotBringBackItsOlderValue()
    {
        await using var store = new InMemoryBackend();
        for (int i = 0; i < 10; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), $"v{i}"));
        }

        await using TestRelay first = await TestRelay.StartAsync(Relays.Feed(store));
        await using TestRelay second = await TestRelay.StartAsync(Relays.Feed(store));
        await Eventually.True(() => first.Feed().Status == SyncStatus.InSync && second.Feed().Status == SyncStatus.InSync, "both relays are in sync");
        var callbacks = new RecordingCallbacks();
        RelaySyncerOptions options = Relays.Client(first.Address, second.Address);
        options.Codec = new FussyDecoder();
        await using var syncer = new RelaySyncer(options, callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client before the writes");

        // A key the client holds, then a value of it the client's codec cannot decode: the client drops the key.
        string key = Relays.Key(0, 50);
        await store.ApplyAsync(new KVPair(new PathKey(key), "fine"));
        await Eventually.True(() => callbacks.Picture.ContainsKey(key), "the client holds the key");
        await store.ApplyAsync(new KVPair(new PathKey(key), "undecodable"));
        await Eventually.True(() => !callbacks.Picture.ContainsKey(key), "the client drops the key whose new value it cannot decode");
        await Eventually.True(() => syncer.ConnectedEndpoint is not null, "the client is connected");
        (TestRelay victim, TestRelay survivor) = syncer.ConnectedEndpoint == first.Address ? (first, second) : (second, first);
        await Eventually.True(() => survivor.Feed().KeyCount == 11 && survivor.Feed().Sequence == victim.Feed().Sequence, "the survivor has the writes");
        int before = callbacks.Calls.Count;

        await victim.KillAsync();
        await Eventually.True(() => syncer.ConnectedEndpoint == survivor.Address, "the client fails over");
        string marker = Relays.Key(1, 51);
        await store.ApplyAsync(new KVPair(new PathKey(marker), "after-failover"));
        await Eventually.True(() => callbacks.LastStatus == SyncStatus.InSync && callbacks.Picture.ContainsKey(marker), "the client has the write after the failover");

        callbacks.Calls.Skip(before).OfType<Update[]>().SelectMany(b => b)
            .Where(u => u.KVPair.Key.DefaultPath == key)
            .Select(u => $"{u.UpdateType} {Relays.Text(u.KVPair.Value)} @{u.KVPair.Revision}")
            .Should().BeEmpty("the datastore no longer has the value 'fine': the client must not be told it again after the failover");
        callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task FailoverOntoARelayMidRelist_ThatHasTheClientsPicture_DoesNotReplayAKeyTheClientSawDeleted()
    {
        await using var store = new InMemoryBackend();
        for (int i = 0; i < 10; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), $"v{i}"));
        }

        var firstUpstream = new GatedBackend(new FaultyBackend(store, seed: 1) { Faults = false });
        var secondUpstream = new GatedBackend(new FaultyBackend(store, seed: 2) { Faults = false });
        await using TestRelay first = await TestRelay.StartAsync(Relays.Feed(firstUpstream));
        await using TestRelay second = await TestRelay.StartAsync(Relays.Feed(secondUpstream));
        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(first.Address, second.Address), callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client before the key");
        await Eventually.True(() => first.Feed().Status == SyncStatus.InSync && second.Feed().Status == SyncStatus.InSync, "both relays are in sync");
        string key = Relays.Key(0, 50);
        await store.ApplyAsync(new KVPair(new PathKey(key), "created"));
        await Relays.ConvergedAsync(callbacks, store, "client with the key");
        await Eventually.True(() => syncer.ConnectedEndpoint is not null, "the client is connected");
        (TestRelay victim, TestRelay survivor, GatedBackend survivorUpstream) = syncer.ConnectedEndpoint == first.Address
            ? (first, second, secondUpstream)
            : (second, first, firstUpstream);
        await Eventually.True(() => survivor.Feed().Status == SyncStatus.InSync && survivor.Feed().KeyCount == 11, "the survivor has the key");

        // The survivor relists (its watches end as after a compaction or a restore of the same data); one resource
        // type's list hangs, so it stays ResyncInProgress, while the other type's watch is live again.
        survivorUpstream.HoldLists(Relays.Prefixes[1]);
        survivorUpstream.Inner.ResetTo(store);
        await Eventually.True(() => survivor.Feed().Status == SyncStatus.ResyncInProgress, "the survivor relists");
        await store.DeleteAsync(new PathKey(key));
        await Eventually.True(() => !callbacks.Picture.ContainsKey(key), "the client hears the key deleted");
        await Eventually.True(() => survivor.Feed().KeyCount == 10, "the survivor has the delete too (its picture is the client's)");
        int before = callbacks.Calls.Count;
        using var resumes = new RelayCounter(survivor, "watchersync.relay.resumes", "by");
        using var snapshots = new RelayCounter(survivor, "watchersync.relay.snapshots_sent");

        await victim.KillAsync();
        await Eventually.True(() => syncer.ConnectedEndpoint == survivor.Address && resumes.Count() + snapshots.Count() >= 1, "the client fails over");
        await Eventually.True(() => survivor.Host.Connections.Count == 1 && survivor.Host.Connections.Open.All(c => c.Cursor >= survivor.Feed().Sequence), "the survivor has sent the client its log");
        survivorUpstream.ReleaseLists();
        await Relays.ConvergedAsync(callbacks, store, "client after the relist");

        callbacks.Calls.Skip(before).OfType<Update[]>().SelectMany(b => b)
            .Where(u => u.KVPair.Key.DefaultPath == key)
            .Select(u => $"{u.UpdateType} {Relays.Text(u.KVPair.Value)} @{u.KVPair.Revision}")
            .Should().BeEmpty($"the client had seen the key deleted, and the survivor's picture had the delete too (resumes by revision: {resumes.Count("revision")}, snapshots: {snapshots.Count()})");
        callbacks.Violations.Should().BeEmpty();
    }

    /// <summary>A backend whose lists under one prefix can be held until released.</summary>
    private sealed class GatedBackend(FaultyBackend inner) : IBackendClient
    {
        private volatile string? _held;
        private TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public FaultyBackend Inner => inner;

        public void HoldLists(string prefix)
        {
            _release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _held = prefix;
        }

        public void ReleaseLists()
        {
            _held = null;
            _release.TrySetResult();
        }

        public Task<KVPair> CreateAsync(KVPair kv, CancellationToken cancellationToken = default) => inner.CreateAsync(kv, cancellationToken);

        public Task<KVPair> UpdateAsync(KVPair kv, CancellationToken cancellationToken = default) => inner.UpdateAsync(kv, cancellationToken);

        public Task<KVPair> ApplyAsync(KVPair kv, CancellationToken cancellationToken = default) => inner.ApplyAsync(kv, cancellationToken);

        public Task<KVPair> DeleteAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, revision, cancellationToken);

        public Task<KVPair> GetAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => inner.GetAsync(key, revision, cancellationToken);

        public async Task<KVPairList> ListAsync(IListOptions list, string? revision = null, CancellationToken cancellationToken = default)
        {
            if (_held is { } held && list.DefaultPathRoot == held)
            {
                await _release.Task.WaitAsync(cancellationToken);
            }

            return await inner.ListAsync(list, revision, cancellationToken);
        }

        public Task<IWatch> WatchAsync(IListOptions list, WatchOptions options, CancellationToken cancellationToken = default) => inner.WatchAsync(list, options, cancellationToken);

        public ISyncer CreateSyncer(IEnumerable<ResourceType> resourceTypes, ISyncerCallbacks callbacks) => new WatcherSyncer(this, resourceTypes, callbacks);

        public Task EnsureInitializedAsync(CancellationToken cancellationToken = default) => inner.EnsureInitializedAsync(cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A codec that cannot decode the value "undecodable".</summary>
    private sealed class FussyDecoder : IValueCodec
    {
        public object Decode(string key, ReadOnlyMemory<byte> data) => Encoding.UTF8.GetString(data.Span) == "undecodable"
            ? throw new FormatException("This codec cannot decode that value.")
            : data.ToArray();

        public byte[] Encode(object value) => (byte[])value;
    }
}
