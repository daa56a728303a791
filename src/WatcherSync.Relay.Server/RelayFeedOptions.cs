namespace WatcherSync.Relay.Server;

/// <summary>One named feed a relay serves: a <see cref="WatcherSyncer"/> over some resource types of one backend.</summary>
public sealed class RelayFeedOptions
{
    /// <summary>Gets or sets the feed's name, which clients ask for in their hello. Default <c>default</c>.</summary>
    public string Name { get; set; } = "default";

    /// <summary>
    /// Gets or sets the backend the feed's syncer lists and watches. Either this or <see cref="BackendFactory"/> is
    /// required. The relay does not dispose a backend given here.
    /// </summary>
    public IBackendClient? Backend { get; set; }

    /// <summary>Gets or sets a factory for the backend, resolved from the application's services when the relay starts.</summary>
    public Func<IServiceProvider, IBackendClient>? BackendFactory { get; set; }

    /// <summary>Gets the resource types the feed's syncer lists and watches (at least one), with their update processors.</summary>
    public IList<ResourceType> ResourceTypes { get; } = [];

    /// <summary>
    /// Gets or sets the codec that turns the syncer's values into the bytes sent to clients. Default
    /// <see cref="RawBytesCodec"/>, which passes the stored bytes through unchanged.
    /// </summary>
    public IValueCodec Codec { get; set; } = RawBytesCodec.Instance;

    /// <summary>
    /// Gets or sets the name of the datastore the feed follows, the first part of its datastore epoch (the second is
    /// the number of datastore resets the feed has seen). A client moving between relays is continued without a
    /// snapshot only by a relay in the same epoch, so give every relay over one datastore the same name, and change it
    /// when the datastore is restored from a backup. Default empty: relays over the same datastore agree on it.
    /// </summary>
    public string DatastoreEpoch { get; set; } = string.Empty;

    /// <summary>Gets or sets the options of the feed's syncer; null for the defaults (its name becomes the feed's).</summary>
    public WatcherSyncerOptions? SyncerOptions { get; set; }
}
