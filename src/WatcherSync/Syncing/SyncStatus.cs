namespace WatcherSync;

/// <summary>How complete a syncer's picture of the datastore is.</summary>
public enum SyncStatus : byte
{
    /// <summary>The datastore cannot be reached; the picture may be stale.</summary>
    WaitForDatastore,

    /// <summary>A full list is being taken; the picture is incomplete.</summary>
    ResyncInProgress,

    /// <summary>The picture is complete and follows the datastore.</summary>
    InSync,
}
