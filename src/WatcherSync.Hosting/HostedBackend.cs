namespace WatcherSync.Hosting;

/// <summary>
/// A datastore a package adds to hosting (registered as a singleton, one per <see cref="WatcherSyncBackend"/>): how
/// to make its client, how long it may go unheard, and what is wrong with its options. The in-memory backend is built
/// in; etcd comes from WatcherSync.Hosting.Etcd, so that a host without it does not take gRPC.
/// </summary>
/// <param name="Backend">The value of <see cref="WatcherSyncOptions.Backend"/> that chooses it.</param>
/// <param name="Create">Makes (or resolves) the client.</param>
/// <param name="MaxEventAge">The health check's default limit on silence for the backend client in use, null when it
/// is not this package's client (an application's own) or has no limit.</param>
/// <param name="Validate">Checks its options when the host starts: throws <see cref="ArgumentException"/> listing every problem.</param>
internal sealed record HostedBackend(
    WatcherSyncBackend Backend,
    Func<IServiceProvider, IBackendClient> Create,
    Func<IServiceProvider, IBackendClient, TimeSpan?> MaxEventAge,
    Action<IServiceProvider> Validate);

/// <summary>The configuration section given to <c>AddWatcherSync(IConfiguration)</c>, for backend packages to bind their subsection from.</summary>
/// <param name="Section">The section.</param>
internal sealed record WatcherSyncConfiguration(Microsoft.Extensions.Configuration.IConfiguration Section);
