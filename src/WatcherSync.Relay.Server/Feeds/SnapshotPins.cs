namespace WatcherSync.Relay.Server;

/// <summary>
/// The snapshots a feed's clients are reading, and the bound on them: besides the feed's latest snapshot, at most
/// <c>maxSuperseded</c> superseded snapshots stay pinned; older superseded ones are evicted, and their readers cut off
/// (they reconnect and take the latest). Without it, slow clients that joined at different times during churn would
/// each keep a whole snapshot alive.
/// </summary>
/// <remarks>
/// Invariants, under <see cref="_sync"/>: every snapshot in <see cref="_readers"/> has a count of at least 1 and is
/// not evicted when pinned; after <see cref="Publish"/> returns, at most <c>maxSuperseded</c> pinned snapshots other
/// than <see cref="_latest"/> are not evicted (evicted ones leave the table as their readers unpin them).
/// </remarks>
internal sealed class SnapshotPins(int maxSuperseded)
{
    private readonly Lock _sync = new();
    private readonly Dictionary<FeedSnapshot, int> _readers = new(ReferenceEqualityComparer.Instance);
    private FeedSnapshot? _latest;

    /// <summary>Gets how many distinct snapshots clients are reading (evicted ones included until their readers leave).</summary>
    public int Pinned
    {
        get
        {
            lock (_sync)
            {
                return _readers.Count;
            }
        }
    }

    /// <summary>Pins <paramref name="snapshot"/> for one reader; false when it is already evicted.</summary>
    public bool TryPin(FeedSnapshot snapshot)
    {
        lock (_sync)
        {
            if (snapshot.Evicted)
            {
                return false;
            }

            _readers[snapshot] = _readers.GetValueOrDefault(snapshot) + 1;
            return true;
        }
    }

    public void Unpin(FeedSnapshot snapshot)
    {
        lock (_sync)
        {
            if (_readers.TryGetValue(snapshot, out int count))
            {
                if (count <= 1)
                {
                    _readers.Remove(snapshot);
                }
                else
                {
                    _readers[snapshot] = count - 1;
                }
            }
        }
    }

    /// <summary>Makes <paramref name="snapshot"/> the latest, and evicts the oldest superseded snapshots past the bound.</summary>
    public void Publish(FeedSnapshot snapshot)
    {
        lock (_sync)
        {
            _latest = snapshot;
            foreach (FeedSnapshot old in _readers.Keys
                .Where(s => !ReferenceEquals(s, snapshot) && !s.Evicted)
                .OrderByDescending(s => s.Sequence)
                .Skip(maxSuperseded))
            {
                old.Evict();
            }
        }
    }
}
