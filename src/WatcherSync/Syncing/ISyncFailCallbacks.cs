namespace WatcherSync;

/// <summary>
/// Optional: implemented by an <see cref="ISyncerCallbacks"/> object that wants to hear when the syncer has
/// lost contact with the datastore for longer than its retry timeout.
/// </summary>
public interface ISyncFailCallbacks
{
    /// <summary>Called with the last error seen when the syncer gives up waiting and reports WaitForDatastore.</summary>
    void SyncFailed(Exception error);
}
