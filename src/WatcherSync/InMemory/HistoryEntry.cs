namespace WatcherSync.InMemory;

/// <summary>
/// One retained event: its revision, the record it changed, the event as handed to prefix watchers, and the sequence
/// of the record's previous retained event (older than the history's tail when there is none), so that the versions
/// of a key are a chain through the history rather than a list of their own.
/// </summary>
internal readonly record struct HistoryEntry(long Revision, KeyRecord Record, WatchEvent Event, long PreviousSequence);
