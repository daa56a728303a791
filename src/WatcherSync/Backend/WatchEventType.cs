namespace WatcherSync;

/// <summary>What a <see cref="WatchEvent"/> reports.</summary>
public enum WatchEventType : byte
{
    /// <summary>A key was created.</summary>
    Added,

    /// <summary>A key was modified.</summary>
    Modified,

    /// <summary>A key was deleted.</summary>
    Deleted,

    /// <summary>The watch failed; see <see cref="WatchEvent.Error"/>. The watch delivers nothing after it.</summary>
    Error,

    /// <summary>The watch has seen every change up to the revision in <see cref="WatchEvent.New"/>.</summary>
    Bookmark,
}
