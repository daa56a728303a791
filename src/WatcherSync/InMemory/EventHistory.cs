namespace WatcherSync.InMemory;

/// <summary>
/// The bounded, ordered history of events that watches are served from. Entries are numbered by a sequence that
/// never goes back; the oldest are dropped by compaction. Not thread-safe: the store's lock guards it.
/// </summary>
internal sealed class EventHistory
{
    private HistoryEntry[] _ring;

    public EventHistory(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new HistoryEntry[capacity];
    }

    /// <summary>Sequence number of the next entry to be appended.</summary>
    public long Head { get; private set; }

    /// <summary>Sequence number of the oldest retained entry.</summary>
    public long Tail { get; private set; }

    public int Capacity => _ring.Length;

    public bool IsFull => Head - Tail == _ring.Length;

    public ref readonly HistoryEntry this[long sequence] => ref _ring[sequence % _ring.Length];

    public void Append(in HistoryEntry entry)
    {
        if (IsFull)
        {
            throw new InvalidOperationException("The event history is full; compact first.");
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

    /// <summary>Doubles the capacity (used only when a single revision holds more events than fit).</summary>
    public void Grow()
    {
        var bigger = new HistoryEntry[_ring.Length * 2];
        for (long s = Tail; s < Head; s++)
        {
            bigger[s % bigger.Length] = _ring[s % _ring.Length];
        }

        _ring = bigger;
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
