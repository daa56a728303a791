namespace WatcherSync.InMemory;

/// <summary>
/// Everything the in-memory store knows about one path: the current version (null once deleted) and the older
/// versions still needed to answer reads at retained revisions.
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

    /// <summary>Expiry as UTC ticks; 0 when the key has no time to live.</summary>
    public long ExpiresAtTicks { get; set; }

    /// <summary>Stamp of the last compaction that visited this record, so that one compaction prunes it once.</summary>
    public long PruneMark { get; set; }

    /// <summary>Older versions (ascending by revision) that reads at retained revisions still need.</summary>
    private List<KeyVersion>? _past;

    public bool IsLive => Current is not null;

    public void SetVersion(long revision, KVPair? pair)
    {
        if (ModRevision != 0)
        {
            (_past ??= []).Add(new KeyVersion(ModRevision, Current));
        }

        Current = pair;
        ModRevision = revision;
    }

    /// <summary>Returns the pair as it was at <paramref name="revision"/>, or null when it did not exist then.</summary>
    public KVPair? At(long revision)
    {
        if (ModRevision <= revision)
        {
            return Current;
        }

        if (_past is { } past)
        {
            for (int i = past.Count - 1; i >= 0; i--)
            {
                if (past[i].Revision <= revision)
                {
                    return past[i].Pair;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Drops the versions that no read at or after <paramref name="compactRevision"/> can see.
    /// Returns true when nothing is left: the record can be forgotten.
    /// </summary>
    public bool Prune(long compactRevision)
    {
        if (ModRevision <= compactRevision)
        {
            _past = null;
            return Current is null;
        }

        if (_past is { } past)
        {
            int newestAtOrBefore = -1;
            for (int i = past.Count - 1; i >= 0; i--)
            {
                if (past[i].Revision <= compactRevision)
                {
                    newestAtOrBefore = i;
                    break;
                }
            }

            if (newestAtOrBefore >= 0)
            {
                // The newest version at or before the compaction point stays readable, unless it is a deletion.
                int remove = past[newestAtOrBefore].Pair is null ? newestAtOrBefore + 1 : newestAtOrBefore;
                past.RemoveRange(0, remove);
            }

            if (past.Count == 0)
            {
                _past = null;
            }
        }

        return false;
    }

    private readonly record struct KeyVersion(long Revision, KVPair? Pair);
}
