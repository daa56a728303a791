namespace WatcherSync.InMemory;

/// <summary>Options of an <see cref="InMemoryBackend"/>.</summary>
public sealed class InMemoryBackendOptions
{
    /// <summary>
    /// Gets or sets how many events the store retains for watches. When the history is full the oldest events are
    /// compacted away, exactly as an explicit <see cref="InMemoryBackend.Compact(long)"/> would; a watch that falls
    /// further behind than this gets a <see cref="RevisionExpiredException"/> and must relist. A single revision with more
    /// events (a large prefix delete, many keys expiring together) is kept whole; the room it took is given back when the
    /// next revision is written. Default: 1,048,576.
    /// </summary>
    public int HistoryCapacity { get; set; } = 1 << 20;

    /// <summary>Gets or sets how often a watch that allows bookmarks receives one while it has nothing else to deliver. Default: 1 s.</summary>
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the clock used for time-to-live expiry and bookmarks. Default: <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets the options of the syncers made by <see cref="InMemoryBackend.CreateSyncer"/>; null for the defaults.</summary>
    public WatcherSyncerOptions? SyncerOptions { get; set; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(HistoryCapacity, 16, nameof(HistoryCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(BookmarkInterval, TimeSpan.Zero, nameof(BookmarkInterval));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
    }
}
