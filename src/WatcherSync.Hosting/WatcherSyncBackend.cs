namespace WatcherSync.Hosting;

/// <summary>The datastore a hosted syncer lists and watches.</summary>
public enum WatcherSyncBackend
{
    /// <summary>The embedded <see cref="InMemory.InMemoryBackend"/>, one per service provider. The default.</summary>
    InMemory,

    /// <summary>etcd v3: needs the WatcherSync.Hosting.Etcd package (<c>UseEtcd</c> or <c>AddEtcdBackend</c>).</summary>
    Etcd,
}
