namespace WatcherSync;

/// <summary>
/// Receives a syncer's output. A syncer never makes two calls at once, so implementations need no locking
/// against themselves.
/// </summary>
public interface ISyncerCallbacks
{
    /// <summary>Called when the sync status changes. The same status is never reported twice in a row.</summary>
    void OnStatusUpdated(SyncStatus status);

    /// <summary>Called with a batch of updates, in the order they happened.</summary>
    void OnUpdates(IReadOnlyList<Update> updates);
}
