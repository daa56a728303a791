using Microsoft.Extensions.Time.Testing;
using WatcherSync.InMemory;
using WatcherSync.Testing;

namespace WatcherSync.DataSync.Tests;

/// <summary>The DataSync suite over the embedded datastore: the first client owns the store, later ones share it.</summary>
public sealed class DataSyncInMemoryTests : DataSyncContractTests
{
    private readonly FakeTimeProvider _time = new();
    private InMemoryBackend? _store;

    protected override Task<IBackendClient> CreateClientAsync()
    {
        if (_store is null)
        {
            _store = new InMemoryBackend(new InMemoryBackendOptions { TimeProvider = _time });
            return Task.FromResult<IBackendClient>(_store);
        }

        return Task.FromResult<IBackendClient>(new SharedStoreClient(_store));
    }

    protected override Task CompactAsync(IBackendClient client)
    {
        _store!.Compact(_store.Revision);
        return Task.CompletedTask;
    }

    protected override Task AdvanceTimeAsync(TimeSpan elapsed)
    {
        _time.Advance(elapsed);
        return Task.CompletedTask;
    }

    /// <summary>A second client of the same store: disposing it leaves the store alone.</summary>
    private sealed class SharedStoreClient(InMemoryBackend store) : IBackendClient
    {
        public Task<KVPair> CreateAsync(KVPair kv, CancellationToken cancellationToken = default) => store.CreateAsync(kv, cancellationToken);

        public Task<KVPair> UpdateAsync(KVPair kv, CancellationToken cancellationToken = default) => store.UpdateAsync(kv, cancellationToken);

        public Task<KVPair> ApplyAsync(KVPair kv, CancellationToken cancellationToken = default) => store.ApplyAsync(kv, cancellationToken);

        public Task<KVPair> DeleteAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => store.DeleteAsync(key, revision, cancellationToken);

        public Task<KVPair> GetAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => store.GetAsync(key, revision, cancellationToken);

        public Task<KVPairList> ListAsync(IListOptions list, string? revision = null, CancellationToken cancellationToken = default) => store.ListAsync(list, revision, cancellationToken);

        public Task<IWatch> WatchAsync(IListOptions list, WatchOptions options, CancellationToken cancellationToken = default) => store.WatchAsync(list, options, cancellationToken);

        public ISyncer CreateSyncer(IEnumerable<ResourceType> resourceTypes, ISyncerCallbacks callbacks) => new WatcherSyncer(this, resourceTypes, callbacks);

        public Task EnsureInitializedAsync(CancellationToken cancellationToken = default) => store.EnsureInitializedAsync(cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
