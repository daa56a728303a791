namespace WatcherSync;

/// <summary>One event of a watch.</summary>
/// <param name="Type">What happened.</param>
/// <param name="Old">The pair before the change, when the backend knows it.</param>
/// <param name="New">The pair after the change; for a bookmark, only its revision matters; for a delete, the
/// deleted key with a null value and the revision of the delete.</param>
/// <param name="Error">The failure, for <see cref="WatchEventType.Error"/>.</param>
public sealed record WatchEvent(WatchEventType Type, KVPair? Old, KVPair? New, Exception? Error = null)
{
    /// <summary>Gets the revision of the event (the revision of the change, the bookmark, or null for errors).</summary>
    public string? Revision => New?.Revision ?? Old?.Revision;

    /// <summary>Creates an error event.</summary>
    public static WatchEvent FromError(Exception error) => new(WatchEventType.Error, null, null, error ?? throw new ArgumentNullException(nameof(error)));

    /// <summary>Creates a bookmark at <paramref name="revision"/>.</summary>
    public static WatchEvent Bookmark(string revision) => new(WatchEventType.Bookmark, null, new KVPair(BookmarkKey.Instance, null, revision));

    private sealed class BookmarkKey : IKey
    {
        public static readonly BookmarkKey Instance = new();

        public string DefaultPath => string.Empty;
    }
}
