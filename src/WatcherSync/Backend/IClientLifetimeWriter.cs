namespace WatcherSync;

/// <summary>
/// Optional: a backend that can write keys which live only as long as the client (etcd: a lease the client keeps
/// alive and revokes when disposed; the keys also vanish when the client dies without a goodbye).
/// </summary>
public interface IClientLifetimeWriter
{
    /// <summary>Creates or updates <paramref name="kv"/> so that it is deleted when this client goes away.</summary>
    Task<KVPair> ApplyWithClientLifetimeAsync(KVPair kv, CancellationToken cancellationToken = default);
}
