namespace WatcherSync.Cli.Demo;

/// <summary>One moment of the demo, for the progress display.</summary>
internal sealed record DemoSnapshot(
    TimeSpan Elapsed,
    string Phase,
    SyncStatus Status,
    long Revision,
    int StoreKeys,
    long SyncerKeys,
    long Writes,
    long UpdatesIn,
    long UpdatesOut,
    long Coalesced,
    int QueueLength,
    int SinkKeys,
    long Relists,
    int FollowerView);
