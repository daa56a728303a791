namespace WatcherSync;

/// <summary>Options of a watch.</summary>
/// <param name="Revision">Watch the changes made after this revision; null for changes after now.</param>
/// <param name="AllowWatchBookmarks">Whether the backend may send <see cref="WatchEventType.Bookmark"/> events.</param>
public sealed record WatchOptions(string? Revision = null, bool AllowWatchBookmarks = false)
{
    /// <summary>
    /// Gets whether events carry the previous value of the key (<see cref="WatchEvent.Old"/>); true by default. On etcd
    /// each previous value costs the server a read per event (<c>prev_kv</c>): the syncer, whose caches know every key,
    /// always watches without them.
    /// </summary>
    public bool PreviousValues { get; init; } = true;
}
