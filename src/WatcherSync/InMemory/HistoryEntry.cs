namespace WatcherSync.InMemory;

/// <summary>One retained event: its revision, the record it changed and the event as handed to prefix watchers.</summary>
internal readonly record struct HistoryEntry(long Revision, KeyRecord Record, WatchEvent Event);
