using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Tests.Syncing;

public sealed class WatcherSyncerWatchOptionsTests
{
    [Fact]
    public async Task ASyncerMadeWithItsConstructor_WatchesWithoutPreviousValues()
    {
        // The syncer never reads WatchEvent.Old (its caches know every key), and on etcd prev_kv costs a read per event:
        // however the syncer is made (new WatcherSyncer(client, ...) or client.CreateSyncer), it must not ask for them.
        await using var store = new InMemoryBackend();
        var recording = new WatchOptionsRecorder(store);
        await using var syncer = new WatcherSyncer(recording, [new ResourceType(new PrefixListOptions("/a/"))], new SyncerCallbacks());
        syncer.Start();
        await Eventually.Within(syncer.WaitForInSyncAsync(), "the syncer is in sync");
        await Eventually.True(() => !recording.Seen.IsEmpty, "the syncer opens its watch");

        recording.Seen.Should().OnlyContain(o => !o.PreviousValues);
    }

    private sealed class WatchOptionsRecorder(IBackendClient inner) : IBackendClient
    {
        public System.Collections.Concurrent.ConcurrentQueue<WatchOptions> Seen { get; } = new();

        public Task<KVPair> CreateAsync(KVPair kv, CancellationToken cancellationToken = default) => inner.CreateAsync(kv, cancellationToken);

        public Task<KVPair> UpdateAsync(KVPair kv, CancellationToken cancellationToken = default) => inner.UpdateAsync(kv, cancellationToken);

        public Task<KVPair> ApplyAsync(KVPair kv, CancellationToken cancellationToken = default) => inner.ApplyAsync(kv, cancellationToken);

        public Task<KVPair> DeleteAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, revision, cancellationToken);

        public Task<KVPair> GetAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => inner.GetAsync(key, revision, cancellationToken);

        public Task<KVPairList> ListAsync(IListOptions list, string? revision = null, CancellationToken cancellationToken = default) => inner.ListAsync(list, revision, cancellationToken);

        public Task<IWatch> WatchAsync(IListOptions list, WatchOptions options, CancellationToken cancellationToken = default)
        {
            Seen.Enqueue(options);
            return inner.WatchAsync(list, options, cancellationToken);
        }

        public ISyncer CreateSyncer(IEnumerable<ResourceType> resourceTypes, ISyncerCallbacks callbacks) => new WatcherSyncer(this, resourceTypes, callbacks);

        public Task EnsureInitializedAsync(CancellationToken cancellationToken = default) => inner.EnsureInitializedAsync(cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
