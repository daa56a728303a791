namespace WatcherSync;

/// <summary>Options of one handler of a <see cref="SharedWatcherSyncer"/>.</summary>
public sealed class SyncerHandlerOptions
{
    /// <summary>
    /// Gets or sets whether removing the handler reports every key it holds as deleted before it ends (as a syncer's
    /// stop does), so that it ends holding nothing. False: it ends holding the picture as of its removal. Either way
    /// the updates queued for it at its removal are delivered first. Default: true.
    /// </summary>
    public bool DeleteOnRemove { get; set; } = true;

    /// <summary>
    /// Gets or sets the options of the handler's own <see cref="DedupeBuffer"/>. Default: a buffer's defaults; a logger or
    /// meter factory not set here is the shared syncer's (<see cref="WatcherSyncerOptions.LoggerFactory"/>,
    /// <see cref="WatcherSyncerOptions.MeterFactory"/>).
    /// </summary>
    public DedupeBufferOptions Buffer { get; set; } = new();
}
