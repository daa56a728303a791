using WatcherSync.InMemory;

namespace WatcherSync.Hosting;

/// <summary>The configuration shape of <see cref="InMemoryBackendOptions"/>: its settings only (no time provider), null where the configuration has no value.</summary>
internal sealed class InMemoryBackendSettings
{
    public int? HistoryCapacity { get; set; }

    public TimeSpan? BookmarkInterval { get; set; }

    public SyncerSettings? SyncerOptions { get; set; }

    /// <summary>Sets the options that the configuration gives a value, and leaves the others as they are.</summary>
    public void ApplyTo(InMemoryBackendOptions options)
    {
        options.HistoryCapacity = HistoryCapacity ?? options.HistoryCapacity;
        options.BookmarkInterval = BookmarkInterval ?? options.BookmarkInterval;
        SyncerOptions?.ApplyTo(options.SyncerOptions ??= new WatcherSyncerOptions());
    }
}
