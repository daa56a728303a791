namespace WatcherSync;

/// <summary>What a watcher cache tells the syncer loop.</summary>
internal enum CacheMessageKind : byte
{
    /// <summary>A batch of updates in the order they happened.</summary>
    Updates,

    /// <summary>A raw key and value that could not be parsed, in its place among the updates.</summary>
    ParseFailed,

    /// <summary>The cache has listed and is about to resend its state: it is no longer in sync.</summary>
    ResyncStarted,

    /// <summary>The cache's picture is complete.</summary>
    InSync,

    /// <summary>The cache has had no contact with the datastore for longer than the retry timeout.</summary>
    ContactLost,
}

/// <summary>One message from a watcher cache to the syncer loop.</summary>
internal readonly record struct CacheMessage(
    CacheMessageKind Kind,
    int CacheIndex,
    List<Update>? Updates = null,
    ParseFailure? ParseFailure = null,
    Exception? Error = null,
    string? Revision = null);

/// <summary>A raw key and value that could not be parsed.</summary>
internal readonly record struct ParseFailure(string RawKey, string? RawValue);
