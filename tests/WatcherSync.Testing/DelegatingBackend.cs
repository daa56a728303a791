namespace WatcherSync.Testing;

/// <summary>
/// A backend that hands every call to <c>inner</c>: derive from it to change one or two calls (record them, hold
/// them) and keep the rest. Its syncers run over this wrapper, so they see the overridden calls too.
/// </summary>
public abstract class DelegatingBackend(IBackendClient inner) : IBackendClient
{
    protected IBackendClient Inner { get; } = inner;

    public virtual Task<KVPair> CreateAsync(KVPair kv, CancellationToken cancellationToken = default) => Inner.CreateAsync(kv, cancellationToken);

    public virtual Task<KVPair> UpdateAsync(KVPair kv, CancellationToken cancellationToken = default) => Inner.UpdateAsync(kv, cancellationToken);

    public virtual Task<KVPair> ApplyAsync(KVPair kv, CancellationToken cancellationToken = default) => Inner.ApplyAsync(kv, cancellationToken);

    public virtual Task<KVPair> DeleteAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => Inner.DeleteAsync(key, revision, cancellationToken);

    public virtual Task<KVPair> GetAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => Inner.GetAsync(key, revision, cancellationToken);

    public virtual Task<KVPairList> ListAsync(IListOptions list, string? revision = null, CancellationToken cancellationToken = default) => Inner.ListAsync(list, revision, cancellationToken);

    public virtual Task<IWatch> WatchAsync(IListOptions list, WatchOptions options, CancellationToken cancellationToken = default) => Inner.WatchAsync(list, options, cancellationToken);

    public ISyncer CreateSyncer(IEnumerable<ResourceType> resourceTypes, ISyncerCallbacks callbacks) => new WatcherSyncer(this, resourceTypes, callbacks);

    public Task EnsureInitializedAsync(CancellationToken cancellationToken = default) => Inner.EnsureInitializedAsync(cancellationToken);

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }
}
