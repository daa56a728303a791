namespace WatcherSync.Relay.Server;

/// <summary>
/// A feed's bounded, sequenced log: the most recent entries, oldest first, in a ring that grows up to
/// <c>MaxLogEntries</c> and drops its oldest entries past <c>MaxLogEntries</c> or <c>MaxLogBytes</c>.
/// <para>
/// State: <see cref="_ring"/> holds <see cref="_count"/> entries from <see cref="_head"/> on (wrapping), with
/// consecutive sequence numbers; <see cref="_bytes"/> is the sum of their sizes, and <see cref="_compressed"/> the sum of
/// the compressed forms of their chunks made so far (made by connections outside the feed's lock, hence atomic). Both
/// count against MaxLogBytes: at each append, and each time a connection makes a form (<see cref="TrimToBound"/>), so
/// the log exceeds it only by the forms being counted at that moment. The newest entry is always kept, however large,
/// so the log is empty only before the first append. The feed calls it under its lock, <see cref="_sync"/>, which
/// <see cref="TrimToBound"/> takes itself.
/// </para>
/// </summary>
internal sealed class FeedLog(int maxEntries, long maxBytes, Lock? sync = null)
{
    private readonly Lock _sync = sync ?? new();
    private LogEntry[] _ring = new LogEntry[Math.Min(256, maxEntries)];
    private int _head;
    private int _count;
    private long _bytes;
    private long _compressed;

    public int Count => _count;

    public long Bytes => _bytes + Interlocked.Read(ref _compressed);

    /// <summary>Counts <paramref name="bytes"/> more of compressed chunks held by the log's entries.</summary>
    public void AddCompressed(long bytes) => Interlocked.Add(ref _compressed, bytes);

    /// <summary>Gets the sequence of the oldest entry held, or <paramref name="headSequence"/> + 1 when the log is empty.</summary>
    public long FirstSequence(long headSequence) => _count == 0 ? headSequence + 1 : _ring[_head].Sequence;

    /// <summary>Gets the entry at <paramref name="index"/> (0 = the oldest held).</summary>
    public LogEntry this[int index] => _ring[(_head + index) % _ring.Length];

    public void Append(LogEntry entry)
    {
        if (_count == _ring.Length)
        {
            if (_ring.Length < maxEntries)
            {
                var bigger = new LogEntry[Math.Min(_ring.Length * 2, maxEntries)];
                for (int i = 0; i < _count; i++)
                {
                    bigger[i] = this[i];
                }

                _ring = bigger;
                _head = 0;
            }
            else
            {
                DropOldest();
            }
        }

        _ring[(_head + _count) % _ring.Length] = entry;
        _count++;
        _bytes += entry.Bytes;
        entry.Compressed?.Attach(this);
        DropOldestOverBound();
    }

    /// <summary>
    /// Drops the oldest entries while the log is over MaxLogBytes: called by a connection that has just made a compressed
    /// form of a held entry's chunk, outside the feed's lock, which it takes.
    /// </summary>
    public void TrimToBound()
    {
        lock (_sync)
        {
            DropOldestOverBound();
        }
    }

    /// <summary>
    /// Copies the entries after <paramref name="after"/> into <paramref name="into"/>, at most
    /// <paramref name="maxEntries"/> (up to <paramref name="headSequence"/>, the feed's newest). Returns false when the
    /// log no longer holds the entry right after it.
    /// </summary>
    public bool TryRead(long after, long headSequence, List<LogEntry> into, int maxEntries)
    {
        long first = FirstSequence(headSequence);
        if (after + 1 < first)
        {
            return false;
        }

        for (long next = after + 1; next <= headSequence && into.Count < maxEntries; next++)
        {
            into.Add(this[(int)(next - first)]);
        }

        return true;
    }

    /// <summary>Gets the entry with <paramref name="sequence"/>, or null when the log does not hold it.</summary>
    public LogEntry? Find(long sequence, long headSequence)
    {
        long first = FirstSequence(headSequence);
        return sequence >= first && sequence <= headSequence ? this[(int)(sequence - first)] : null;
    }

    /// <summary>
    /// Gets the newest entry that <paramref name="matches"/>, looking back only over entries at or above
    /// <paramref name="minRevision"/> (a picture that holds a value at that revision cannot be found before it).
    /// </summary>
    public LogEntry? FindNewest(long minRevision, Func<LogEntry, bool> matches)
    {
        for (int i = _count - 1; i >= 0; i--)
        {
            LogEntry entry = this[i];
            if (entry.Position.Revision < minRevision)
            {
                return null;
            }

            if (matches(entry))
            {
                return entry;
            }
        }

        return null;
    }

    private void DropOldestOverBound()
    {
        while (_count > 1 && Bytes > maxBytes)
        {
            DropOldest();
        }
    }

    private void DropOldest()
    {
        LogEntry oldest = _ring[_head];
        _ring[_head] = null!;
        _head = (_head + 1) % _ring.Length;
        _count--;
        _bytes -= oldest.Bytes;
        if (oldest.Compressed is { } compressed)
        {
            Interlocked.Add(ref _compressed, -compressed.Detach());
        }
    }
}
