namespace WatcherSync.InMemory;

/// <summary>
/// The bounded, ordered history of events that watches are served from. Entries are numbered by a sequence that
/// never goes back; the oldest are dropped by compaction. It holds up to <see cref="Limit"/> entries, more only
/// while a single revision needs the room, and gives that room back once compaction has made it unneeded.
/// Not thread-safe: the store's lock guards it.
/// </summary>
internal sealed class EventHistory
{
    private HistoryEntry[] _ring;

    public EventHistory(int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        Limit = limit;
        _ring = new HistoryEntry[limit];
    }

    /// <summary>How many entries the store means to retain (the configured history capacity).</summary>
    public int Limit { get; }

    /// <summary>Sequence number of the next entry to be appended.</summary>
    public long Head { get; private set; }

    /// <summary>Sequence number of the oldest retained entry.</summary>
    public long Tail { get; private set; }

    /// <summary>How many entries fit without growing: <see cref="Limit"/>, or more during a large revision.</summary>
    public int Capacity => _ring.Length;

    public int Count => (int)(Head - Tail);

    /// <summary>Whether the history holds its <see cref="Limit"/> or more: the store compacts before it appends.</summary>
    public bool IsFull => Count >= Limit;

    public ref readonly HistoryEntry this[long sequence] => ref _ring[sequence % _ring.Length];

    /// <summary>Appends an entry, growing the ring when it is full (only a revision with more events than the limit fills it).</summary>
    public void Append(in HistoryEntry entry)
    {
        if (Count == _ring.Length)
        {
            Resize(_ring.Length * 2);
        }

        _ring[Head % _ring.Length] = entry;
        Head++;
    }

    /// <summary>Removes and returns the oldest entry.</summary>
    public HistoryEntry DropOldest()
    {
        long slot = Tail % _ring.Length;
        HistoryEntry entry = _ring[slot];
        _ring[slot] = default;
        Tail++;
        return entry;
    }

    /// <summary>Shrinks a ring that grew for a large revision back to <see cref="Limit"/> once the entries fit in it again.</summary>
    public void TrimExcess()
    {
        if (_ring.Length > Limit && Count < Limit)
        {
            Resize(Limit);
        }
    }

    private void Resize(int length)
    {
        var ring = new HistoryEntry[length];
        for (long s = Tail; s < Head; s++)
        {
            ring[s % length] = _ring[s % _ring.Length];
        }

        _ring = ring;
    }

    /// <summary>Returns the sequence of the first retained entry whose revision is after <paramref name="revision"/>.</summary>
    public long FirstAfter(long revision)
    {
        long lo = Tail;
        long hi = Head;
        while (lo < hi)
        {
            long mid = lo + ((hi - lo) / 2);
            if (this[mid].Revision <= revision)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
