namespace WatcherSync.Testing;

/// <summary>
/// A sink whose first update call throws <see cref="Error"/>; it records the keys of every update call (the failed
/// one too), to check that a syncer goes on after a callback failed. Thread-safe.
/// </summary>
public sealed class ThrowingOnceSink : ISyncerCallbacks
{
    private readonly List<string> _keys = [];
    private int _calls;

    /// <summary>Gets what the first update call throws.</summary>
    public InvalidOperationException Error { get; } = new("one bad batch");

    /// <summary>Gets whether the sink has been given <paramref name="key"/>.</summary>
    public bool Saw(string key)
    {
        lock (_keys)
        {
            return _keys.Contains(key);
        }
    }

    /// <inheritdoc />
    public void OnStatusUpdated(SyncStatus status)
    {
    }

    /// <inheritdoc />
    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        lock (_keys)
        {
            _keys.AddRange(updates.Select(u => u.KVPair.Key.DefaultPath));
        }

        if (Interlocked.Increment(ref _calls) == 1)
        {
            throw Error;
        }
    }
}
