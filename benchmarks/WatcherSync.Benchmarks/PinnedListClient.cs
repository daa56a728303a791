namespace WatcherSync.Benchmarks;

/// <summary>
/// A client that forwards to another but lists at one fixed past revision, so that a syncer's watch then replays the
/// history written after it as fast as it can read it: the syncer's own throughput, without a writer in the way.
/// </summary>
internal sealed class PinnedListClient : IBackendClient
{
    private readonly IBackendClient _inner;
    private readonly string _revision;

    public PinnedListClient(IBackendClient inner, string revision)
    {
        _inner = inner;
        _revision = revision;
    }

    public Task<KVPair> CreateAsync(KVPair kv, CancellationToken cancellationToken = default) => _inner.CreateAsync(kv, cancellationToken);

    public Task<KVPair> UpdateAsync(KVPair kv, CancellationToken cancellationToken = default) => _inner.UpdateAsync(kv, cancellationToken);

    public Task<KVPair> ApplyAsync(KVPair kv, CancellationToken cancellationToken = default) => _inner.ApplyAsync(kv, cancellationToken);

    public Task<KVPair> DeleteAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) =>
        _inner.DeleteAsync(key, revision, cancellationToken);

    public Task<KVPair> GetAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) =>
        _inner.GetAsync(key, revision, cancellationToken);

    public Task<KVPairList> ListAsync(IListOptions list, string? revision = null, CancellationToken cancellationToken = default) =>
        _inner.ListAsync(list, revision ?? _revision, cancellationToken);

    public Task<IWatch> WatchAsync(IListOptions list, WatchOptions options, CancellationToken cancellationToken = default) =>
        _inner.WatchAsync(list, options, cancellationToken);

    public ISyncer CreateSyncer(IEnumerable<ResourceType> resourceTypes, ISyncerCallbacks callbacks) =>
        new WatcherSyncer(this, resourceTypes, callbacks, new WatcherSyncerOptions { MinResyncInterval = TimeSpan.Zero });

    public Task EnsureInitializedAsync(CancellationToken cancellationToken = default) => _inner.EnsureInitializedAsync(cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
