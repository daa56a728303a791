namespace WatcherSync.InMemory;

/// <summary>
/// Everything the in-memory store knows about one path: the current version (null once deleted) and where its
/// latest event is in the history. Older versions, needed for reads at retained revisions, are found by walking the
/// record's events back through the history; one that has been compacted away is the old pair of the oldest event
/// still retained. Writes so allocate nothing per version beyond the event itself.
/// </summary>
internal sealed class KeyRecord
{
    public KeyRecord(string path) => Path = path;

    public string Path { get; }

    /// <summary>The live pair, or null when the latest version is a deletion (a tombstone kept until compacted).</summary>
    public KVPair? Current { get; private set; }

    /// <summary>Revision of <see cref="Current"/> or of the deletion.</summary>
    public long ModRevision { get; private set; }

    public long CreateRevision { get; set; }

    /// <summary>Expiry as UTC ticks; 0 when the key has no time to live. Set by <see cref="ExpiryQueue"/>.</summary>
    public long ExpiresAtTicks { get; set; }

    /// <summary>Place in the <see cref="ExpiryQueue"/>; -1 when the key has no time to live. Set by the queue.</summary>
    public int ExpiryIndex { get; set; } = -1;

    /// <summary>Sequence of the record's latest event in the history; -1 before the first.</summary>
    public long LastSequence { get; set; } = -1;

    public bool IsLive => Current is not null;

    /// <summary>A tombstone at or before <paramref name="compactRevision"/>: no read can see the record any more.</summary>
    public bool IsForgettable(long compactRevision) => Current is null && ModRevision <= compactRevision;

    public void SetVersion(long revision, KVPair? pair)
    {
        Current = pair;
        ModRevision = revision;
    }

    /// <summary>
    /// Returns the pair as it was at <paramref name="revision"/>, or null when it did not exist then.
    /// <paramref name="revision"/> must not be older than the history's compaction point.
    /// </summary>
    public KVPair? At(long revision, EventHistory history)
    {
        if (ModRevision <= revision)
        {
            return Current;
        }

        // The event at ModRevision is newer than the compaction point, so it is retained; walk back from it.
        long sequence = LastSequence;
        while (true)
        {
            ref readonly HistoryEntry entry = ref history[sequence];
            long previous = entry.PreviousSequence;
            if (previous < history.Tail)
            {
                // Nothing older is retained: the version before this event is the one its event replaced.
                return entry.Type == WatchEventType.Added ? null : entry.Old;
            }

            ref readonly HistoryEntry older = ref history[previous];
            if (older.Revision <= revision)
            {
                return older.Type == WatchEventType.Deleted ? null : older.New;
            }

            sequence = previous;
        }
    }
}
