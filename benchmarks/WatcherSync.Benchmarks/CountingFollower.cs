namespace WatcherSync.Benchmarks;

/// <summary>A follower that only counts its calls, and lets a benchmark thread block until a count is reached.</summary>
internal sealed class CountingFollower : IFollower<KVPair>
{
    private readonly object _sync = new();
    private long _changes;
    private long _batches;

    /// <summary>Gets the New, Updated and Deleted calls seen.</summary>
    public long Changes => Volatile.Read(ref _changes);

    public bool Filter(KVPair item) => true;

    public bool Equals(KVPair previous, KVPair current) => ReferenceEquals(previous, current);

    public ValueTask NewAsync(KVPair current)
    {
        _changes++;
        return ValueTask.CompletedTask;
    }

    public ValueTask UpdatedAsync(KVPair previous, KVPair current)
    {
        _changes++;
        return ValueTask.CompletedTask;
    }

    public ValueTask DeletedAsync(KVPair previous)
    {
        _changes++;
        return ValueTask.CompletedTask;
    }

    public ValueTask BatchDoneAsync()
    {
        lock (_sync)
        {
            _batches++;
            Monitor.PulseAll(_sync);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Blocks until a BatchDone has come after at least <paramref name="changes"/> changes in all.</summary>
    public void WaitFor(long changes)
    {
        lock (_sync)
        {
            while (Volatile.Read(ref _changes) < changes || _batches == 0)
            {
                if (!Monitor.Wait(_sync, TimeSpan.FromSeconds(60)))
                {
                    throw new TimeoutException($"The follower saw {Changes} changes of {changes} in 60 s.");
                }
            }
        }
    }
}
