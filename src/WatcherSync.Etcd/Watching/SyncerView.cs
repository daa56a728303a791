namespace WatcherSync.Etcd.Watching;

/// <summary>
/// The client as the syncers it makes see it: the same client, except that watches do not ask etcd for previous
/// values. A syncer never reads <see cref="WatchEvent.Old"/> (its caches know every key), and <c>prev_kv</c> costs
/// etcd a read per event: with 200,000 keys stored it put a syncer's watch hundreds of milliseconds behind
/// <c>etcdctl watch</c> (see benchmarks/README.md).
/// </summary>
internal sealed class SyncerView(EtcdBackendClient client) : IBackendClient
{
    public Task<KVPair> CreateAsync(KVPair kv, CancellationToken cancellationToken = default) => client.CreateAsync(kv, cancellationToken);

    public Task<KVPair> UpdateAsync(KVPair kv, CancellationToken cancellationToken = default) => client.UpdateAsync(kv, cancellationToken);

    public Task<KVPair> ApplyAsync(KVPair kv, CancellationToken cancellationToken = default) => client.ApplyAsync(kv, cancellationToken);

    public Task<KVPair> DeleteAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => client.DeleteAsync(key, revision, cancellationToken);

    public Task<KVPair> GetAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => client.GetAsync(key, revision, cancellationToken);

    public Task<KVPairList> ListAsync(IListOptions list, string? revision = null, CancellationToken cancellationToken = default) => client.ListAsync(list, revision, cancellationToken);

    public Task<IWatch> WatchAsync(IListOptions list, WatchOptions options, CancellationToken cancellationToken = default) =>
        client.WatchAsync(list, options, previousValues: false, cancellationToken);

    public ISyncer CreateSyncer(IEnumerable<ResourceType> resourceTypes, ISyncerCallbacks callbacks) => client.CreateSyncer(resourceTypes, callbacks);

    public Task EnsureInitializedAsync(CancellationToken cancellationToken = default) => client.EnsureInitializedAsync(cancellationToken);

    /// <summary>Does nothing: the client belongs to whoever made it, not to its syncers.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
