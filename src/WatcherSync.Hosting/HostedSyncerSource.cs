namespace WatcherSync.Hosting;

/// <summary>
/// Where a hosted syncer takes its picture from when it is not the host's datastore (registered as a singleton per
/// syncer name by a package, such as WatcherSync.Hosting.Relay): the pipeline makes its shared syncer's one syncer with
/// <see cref="Create"/> instead of a <see cref="WatcherSyncer"/> on the host's <see cref="IBackendClient"/>, which it
/// then never resolves. The last one registered for a name wins.
/// </summary>
/// <param name="Name">The syncer's name: empty for the unnamed syncer.</param>
/// <param name="Kind">What the source is, for the start log (for example <c>Relay</c>).</param>
/// <param name="Create">Makes the syncer from the service provider, the syncer's resource types (its prefixes and those
/// registered in code), its hosting options, and the callbacks it must call.</param>
internal sealed record HostedSyncerSource(
    string Name,
    string Kind,
    Func<IServiceProvider, IReadOnlyList<ResourceType>, WatcherSyncOptions, ISyncerCallbacks, ISyncer> Create);
