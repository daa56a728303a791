namespace WatcherSync.Benchmarks;

/// <summary>
/// Syncer callbacks that only count, and let a benchmark thread block (not spin: the machine has two cores) until a
/// number of updates or a status has arrived.
/// </summary>
internal sealed class CountingSink : ISyncerCallbacks
{
    private readonly object _sync = new();
    private long _updates;
    private long _target = long.MaxValue;
    private SyncStatus? _status;
    private SyncStatus? _awaitedStatus;

    public long Updates => Volatile.Read(ref _updates);

    public SyncStatus? Status
    {
        get
        {
            lock (_sync)
            {
                return _status;
            }
        }
    }

    public void OnStatusUpdated(SyncStatus status)
    {
        lock (_sync)
        {
            _status = status;
            if (_awaitedStatus == status)
            {
                Monitor.PulseAll(_sync);
            }
        }
    }

    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        long now = Interlocked.Add(ref _updates, updates.Count);
        if (now >= Volatile.Read(ref _target))
        {
            lock (_sync)
            {
                Monitor.PulseAll(_sync);
            }
        }
    }

    /// <summary>Blocks until at least <paramref name="count"/> updates have been seen in all.</summary>
    public void WaitForUpdates(long count)
    {
        lock (_sync)
        {
            // A full fence between publishing the target and reading the count, so that OnUpdates cannot miss it.
            Interlocked.Exchange(ref _target, count);
            while (Volatile.Read(ref _updates) < count)
            {
                if (!Monitor.Wait(_sync, TimeSpan.FromSeconds(60)))
                {
                    throw new TimeoutException($"Saw {Updates} updates of {count} in 60 s.");
                }
            }

            Volatile.Write(ref _target, long.MaxValue);
        }
    }

    /// <summary>Blocks until <paramref name="status"/> is the last status received.</summary>
    public void WaitForStatus(SyncStatus status)
    {
        lock (_sync)
        {
            _awaitedStatus = status;
            while (_status != status)
            {
                if (!Monitor.Wait(_sync, TimeSpan.FromSeconds(60)))
                {
                    throw new TimeoutException($"No {status} in 60 s (last: {_status}).");
                }
            }

            _awaitedStatus = null;
        }
    }
}
