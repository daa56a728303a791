namespace WatcherSync.Hosting;

/// <summary>The datastore a hosted syncer lists and watches.</summary>
public enum WatcherSyncBackend
{
    /// <summary>The embedded <see cref="InMemory.InMemoryBackend"/>, one per service provider. The default.</summary>
    InMemory,

    /// <summary>etcd v3 through <see cref="Etcd.EtcdBackendClient"/>, configured by <see cref="Etcd.EtcdClientOptions"/>.</summary>
    Etcd,
}
