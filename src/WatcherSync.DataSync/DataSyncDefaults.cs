namespace WatcherSync.DataSync;

/// <summary>Default timeouts of the DataSync layer.</summary>
public static class DataSyncDefaults
{
    /// <summary>How long an event may wait to be taken into a subscriber's channel before it is reported as dropped: 2 s.</summary>
    public static readonly TimeSpan DefaultNotifTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long the engine waits for a subscriber's <c>Done</c> after the event was taken: 10 s.</summary>
    public static readonly TimeSpan DefaultAckTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How many changes may queue for a subscriber that is behind before they are merged per key: 1000.</summary>
    public const int DefaultMaxQueuedChanges = 1000;
}
