namespace WatcherSync;

/// <summary>Options of a watch.</summary>
/// <param name="Revision">Watch the changes made after this revision; null for changes after now.</param>
/// <param name="AllowWatchBookmarks">Whether the backend may send <see cref="WatchEventType.Bookmark"/> events.</param>
public sealed record WatchOptions(string? Revision = null, bool AllowWatchBookmarks = false);
