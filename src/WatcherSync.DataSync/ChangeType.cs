namespace WatcherSync.DataSync;

/// <summary>What happened to a key.</summary>
public enum ChangeType : byte
{
    /// <summary>The key was created or updated.</summary>
    Put,

    /// <summary>The key was deleted.</summary>
    Delete,
}
