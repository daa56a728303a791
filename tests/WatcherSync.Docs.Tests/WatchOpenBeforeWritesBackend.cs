namespace WatcherSync.Docs.Tests;

/// <summary>
/// An in-memory store whose writes wait until a watch is open on it: what happens when a subscriber is already
/// watching by the time a snippet writes (on etcd, or on a busy machine), made certain instead of left to a race.
/// </summary>
internal sealed class WatchOpenBeforeWritesBackend(IBackendClient inner) : IBackendClient
{
    private readonly TaskCompletionSource _watching = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task<KVPair> CreateAsync(KVPair kv, CancellationToken cancellationToken = default)
    {
        await _watching.Task.WaitAsync(cancellationToken);
        return await inner.CreateAsync(kv, cancellationToken);
    }

    public async Task<KVPair> UpdateAsync(KVPair kv, CancellationToken cancellationToken = default)
    {
        await _watching.Task.WaitAsync(cancellationToken);
        return await inner.UpdateAsync(kv, cancellationToken);
    }

    public async Task<KVPair> ApplyAsync(KVPair kv, CancellationToken cancellationToken = default)
    {
        await _watching.Task.WaitAsync(cancellationToken);
        return await inner.ApplyAsync(kv, cancellationToken);
    }

    public async Task<KVPair> DeleteAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default)
    {
        await _watching.Task.WaitAsync(cancellationToken);
        return await inner.DeleteAsync(key, revision, cancellationToken);
    }

    public Task<KVPair> GetAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => inner.GetAsync(key, revision, cancellationToken);

    public Task<KVPairList> ListAsync(IListOptions list, string? revision = null, CancellationToken cancellationToken = default) => inner.ListAsync(list, revision, cancellationToken);

    public async Task<IWatch> WatchAsync(IListOptions list, WatchOptions options, CancellationToken cancellationToken = default)
    {
        IWatch watch = await inner.WatchAsync(list, options, cancellationToken);
        _watching.TrySetResult();
        return watch;
    }

    public ISyncer CreateSyncer(IEnumerable<ResourceType> resourceTypes, ISyncerCallbacks callbacks) => new WatcherSyncer(this, resourceTypes, callbacks);

    public Task EnsureInitializedAsync(CancellationToken cancellationToken = default) => inner.EnsureInitializedAsync(cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
