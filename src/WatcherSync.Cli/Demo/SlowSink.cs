namespace WatcherSync.Cli.Demo;

/// <summary>
/// The deliberately slow consumer behind the dedupe buffer: it applies each batch to its own picture of the
/// datastore, then takes <c>delay</c> over it. It also checks the buffer's promise about update types: New only
/// for keys it lacks, Updated and Deleted only for keys it holds.
/// </summary>
internal sealed class SlowSink : ISyncerCallbacks
{
    private readonly TimeSpan _delay;
    private readonly CancellationToken _cancellationToken;
    private readonly Lock _sync = new();
    private readonly Dictionary<string, KVPair> _picture = new(StringComparer.Ordinal);
    private SyncStatus _status = SyncStatus.WaitForDatastore;
    private long _updates;
    private long _batches;
    private long _wrongTypes;
    private int _largestBatch;
    private string? _firstWrongType;

    public SlowSink(TimeSpan delay, CancellationToken cancellationToken)
    {
        _delay = delay;
        _cancellationToken = cancellationToken;
    }

    public long UpdatesReceived => Interlocked.Read(ref _updates);

    public long Batches => Interlocked.Read(ref _batches);

    public int LargestBatch => Volatile.Read(ref _largestBatch);

    /// <summary>Gets how many updates had a type that did not fit what the sink held.</summary>
    public long WrongTypes => Interlocked.Read(ref _wrongTypes);

    public string? FirstWrongType
    {
        get
        {
            lock (_sync)
            {
                return _firstWrongType;
            }
        }
    }

    public SyncStatus Status
    {
        get
        {
            lock (_sync)
            {
                return _status;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _picture.Count;
            }
        }
    }

    public void OnStatusUpdated(SyncStatus status)
    {
        lock (_sync)
        {
            _status = status;
        }
    }

    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        lock (_sync)
        {
            foreach (Update update in updates)
            {
                Apply(update);
            }
        }

        Interlocked.Add(ref _updates, updates.Count);
        Interlocked.Increment(ref _batches);
        if (updates.Count > _largestBatch)
        {
            Volatile.Write(ref _largestBatch, updates.Count);
        }

        // The sink's "work": it wakes early only when the demo is torn down.
        if (_delay > TimeSpan.Zero)
        {
            _cancellationToken.WaitHandle.WaitOne(_delay);
        }
    }

    /// <summary>A copy of the sink's picture, key → pair.</summary>
    public Dictionary<string, KVPair> Snapshot()
    {
        lock (_sync)
        {
            return new Dictionary<string, KVPair>(_picture, StringComparer.Ordinal);
        }
    }

    private void Apply(Update update)
    {
        string key = update.KVPair.Key.DefaultPath;
        bool held = _picture.ContainsKey(key);
        bool fits = update.UpdateType switch
        {
            UpdateType.New => !held,
            UpdateType.Updated or UpdateType.Deleted => held,
            _ => false,
        };
        if (!fits)
        {
            Interlocked.Increment(ref _wrongTypes);
            _firstWrongType ??= $"{update.UpdateType} for {key}, which the sink {(held ? "held" : "did not hold")}";
        }

        if (update.UpdateType == UpdateType.Deleted || update.KVPair.Value is null)
        {
            _picture.Remove(key);
        }
        else
        {
            _picture[key] = update.KVPair;
        }
    }
}
