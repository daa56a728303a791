namespace WatcherSync;

/// <summary>
/// Optional: implemented by an <see cref="ISyncerCallbacks"/> object that wants to hear of stored values that
/// could not be parsed. The syncer goes on with the other keys.
/// </summary>
public interface ISyncerParseFailCallbacks
{
    /// <summary>Called with the raw key and value (as text, possibly truncated) that failed to parse.</summary>
    void ParseFailed(string rawKey, string? rawValue);
}
