using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;

namespace WatcherSync.InMemory;

/// <summary>
/// The deadlines of the keys that have a time to live: a binary min-heap of records ordered by
/// <see cref="KeyRecord.ExpiresAtTicks"/> (then by path, so keys due together expire in key order), in which a record
/// has at most one place, kept in <see cref="KeyRecord.ExpiryIndex"/>. A rewrite moves the deadline and a delete or a
/// rewrite without a time to live removes it, so the queue holds one entry per live key with a time to live, whatever
/// the write rate. Not thread-safe: the store's lock guards it.
/// </summary>
internal sealed class ExpiryQueue
{
    private readonly List<KeyRecord> _heap = [];

    /// <summary>Gets how many records have a deadline.</summary>
    public int Count => _heap.Count;

    /// <summary>Gets the earliest deadline as UTC ticks, or <see cref="long.MaxValue"/> when there is none.</summary>
    public long NextDueTicks => _heap.Count == 0 ? long.MaxValue : _heap[0].ExpiresAtTicks;

    /// <summary>Gives <paramref name="record"/> the deadline <paramref name="dueTicks"/>, replacing any it had.</summary>
    public void Set(KeyRecord record, long dueTicks)
    {
        record.ExpiresAtTicks = dueTicks;
        if (record.ExpiryIndex < 0)
        {
            record.ExpiryIndex = _heap.Count;
            _heap.Add(record);
            SiftUp(record.ExpiryIndex);
        }
        else
        {
            SiftUp(record.ExpiryIndex);
            SiftDown(record.ExpiryIndex);
        }
    }

    /// <summary>Removes the deadline of <paramref name="record"/>, if it has one.</summary>
    public void Remove(KeyRecord record)
    {
        int index = record.ExpiryIndex;
        if (index < 0)
        {
            return;
        }

        record.ExpiryIndex = -1;
        record.ExpiresAtTicks = 0;
        int last = _heap.Count - 1;
        KeyRecord moved = _heap[last];
        _heap.RemoveAt(last);
        if (index < last)
        {
            Place(moved, index);
            SiftUp(index);
            SiftDown(moved.ExpiryIndex);
        }
    }

    /// <summary>Takes the record with the earliest deadline if that deadline is at or before <paramref name="nowTicks"/>.</summary>
    public bool TryTakeDue(long nowTicks, [NotNullWhen(true)] out KeyRecord? record)
    {
        if (_heap.Count == 0 || _heap[0].ExpiresAtTicks > nowTicks)
        {
            record = null;
            return false;
        }

        record = _heap[0];
        Remove(record);
        return true;
    }

    private static bool Before(KeyRecord x, KeyRecord y) =>
        x.ExpiresAtTicks != y.ExpiresAtTicks ? x.ExpiresAtTicks < y.ExpiresAtTicks : string.CompareOrdinal(x.Path, y.Path) < 0;

    private void SiftUp(int index)
    {
        KeyRecord record = _heap[index];
        while (index > 0)
        {
            int parent = (index - 1) / 2;
            if (!Before(record, _heap[parent]))
            {
                break;
            }

            Place(_heap[parent], index);
            index = parent;
        }

        Place(record, index);
    }

    private void SiftDown(int index)
    {
        KeyRecord record = _heap[index];
        int count = _heap.Count;
        while (true)
        {
            int child = (2 * index) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && Before(_heap[child + 1], _heap[child]))
            {
                child++;
            }

            if (!Before(_heap[child], record))
            {
                break;
            }

            Place(_heap[child], index);
            index = child;
        }

        Place(record, index);
    }

    private void Place(KeyRecord record, int index)
    {
        _heap[index] = record;
        record.ExpiryIndex = index;
        Debug.Assert(record.IsLive, "Only live keys have a deadline.");
    }
}
