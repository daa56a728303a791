namespace WatcherSync.InMemory;

/// <summary>
/// One retained event: its revision, the record it changed, what happened (the pair before and after), and the
/// sequence of the record's previous retained event (older than the history's tail when there is none), so that the
/// versions of a key are a chain through the history rather than a list of their own. The
/// <see cref="WatchEvent"/> itself is made by each watch that reads the entry: a write allocates no event, and what
/// every write leaves behind for the garbage collector to carry along stays small.
/// </summary>
internal readonly record struct HistoryEntry(long Revision, KeyRecord Record, WatchEventType Type, KVPair? Old, KVPair? New, long PreviousSequence);
