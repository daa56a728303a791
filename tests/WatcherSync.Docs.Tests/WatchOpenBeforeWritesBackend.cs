using WatcherSync.Testing;

namespace WatcherSync.Docs.Tests;

/// <summary>
/// An in-memory store whose writes wait until a watch is open on it: what happens when a subscriber is already
/// watching by the time a snippet writes (on etcd, or on a busy machine), made certain instead of left to a race.
/// </summary>
internal sealed class WatchOpenBeforeWritesBackend(IBackendClient inner) : DelegatingBackend(inner)
{
    private readonly TaskCompletionSource _watching = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override async Task<KVPair> CreateAsync(KVPair kv, CancellationToken cancellationToken = default)
    {
        await _watching.Task.WaitAsync(cancellationToken);
        return await base.CreateAsync(kv, cancellationToken);
    }

    public override async Task<KVPair> UpdateAsync(KVPair kv, CancellationToken cancellationToken = default)
    {
        await _watching.Task.WaitAsync(cancellationToken);
        return await base.UpdateAsync(kv, cancellationToken);
    }

    public override async Task<KVPair> ApplyAsync(KVPair kv, CancellationToken cancellationToken = default)
    {
        await _watching.Task.WaitAsync(cancellationToken);
        return await base.ApplyAsync(kv, cancellationToken);
    }

    public override async Task<KVPair> DeleteAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default)
    {
        await _watching.Task.WaitAsync(cancellationToken);
        return await base.DeleteAsync(key, revision, cancellationToken);
    }

    public override async Task<IWatch> WatchAsync(IListOptions list, WatchOptions options, CancellationToken cancellationToken = default)
    {
        IWatch watch = await base.WatchAsync(list, options, cancellationToken);
        _watching.TrySetResult();
        return watch;
    }
}
