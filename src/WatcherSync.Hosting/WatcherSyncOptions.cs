using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace WatcherSync.Hosting;

/// <summary>
/// Options of the syncer that the host runs. Bound from the <c>WatcherSync</c> configuration section by
/// <see cref="WatcherSyncServiceCollectionExtensions.AddWatcherSync(IServiceCollection, IConfiguration)"/>
/// and checked when the host starts.
/// </summary>
public sealed class WatcherSyncOptions
{
    /// <summary>The configuration section these options are usually bound from: <c>WatcherSync</c>.</summary>
    public const string DefaultSectionName = "WatcherSync";

    /// <summary>
    /// Gets or sets the datastore. Default: <see cref="WatcherSyncBackend.InMemory"/>. Has no effect when the
    /// application registers an <see cref="IBackendClient"/> of its own.
    /// </summary>
    public WatcherSyncBackend Backend { get; set; } = WatcherSyncBackend.InMemory;

    /// <summary>
    /// Gets or sets the key prefixes to list and watch, one resource type each (for example <c>/registry/pods/</c>).
    /// Added to the resource types registered in code; together at least one is required. Default: none.
    /// </summary>
    public IList<string> Prefixes { get; set; } = [];

    /// <summary>
    /// Gets or sets the syncer's options (bound from the <c>Syncer</c> subsection). The logger and meter factories,
    /// when left null, are taken from the service provider. Default: the <see cref="WatcherSyncerOptions"/> defaults.
    /// </summary>
    public WatcherSyncerOptions Syncer { get; set; } = new();

    /// <summary>
    /// Gets or sets how long the datastore may go unheard (no event, bookmark, progress notification or list)
    /// before the health check reports the watch stream as dead. Null for the backend's own limit: etcd's watchdog
    /// (its <c>ProgressNotifyInterval</c> plus <c>WatchdogSlack</c>),
    /// or for the in-memory backend ten bookmark intervals but at least 30 s; no limit for a backend of the
    /// application's own. <see cref="Timeout.InfiniteTimeSpan"/> turns the check off. Default: null.
    /// </summary>
    public TimeSpan? MaxEventAge { get; set; }

    /// <summary>
    /// Gets or sets how long the syncer may be unable to reach the datastore before the health check reports Degraded,
    /// although its status is still InSync (it turns to WaitForDatastore, and the check to the registration's failure
    /// status, only after the syncer's <see cref="WatcherSyncerOptions.WatchRetryTimeout"/>). Default: 10 s.
    /// </summary>
    public TimeSpan UnreachableDegradedAfter { get; set; } = TimeSpan.FromSeconds(10);
}
