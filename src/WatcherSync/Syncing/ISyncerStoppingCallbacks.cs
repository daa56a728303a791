namespace WatcherSync;

/// <summary>
/// Optional, on the callbacks object: told that the syncer is stopping, after the last update from the datastore and
/// before the stop's deletes (when <see cref="WatcherSyncerOptions.DeleteOnStop"/> is on), so that a sink which
/// persists the picture can tell a stop from real deletes.
/// </summary>
public interface ISyncerStoppingCallbacks
{
    /// <summary>Called once when the syncer stops, on the callbacks' thread, after every update from the datastore.</summary>
    void OnStopping();
}
