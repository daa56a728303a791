using System.Threading.Channels;

namespace WatcherSync;

/// <summary>
/// Syncer callbacks that keep only the latest change per key and the latest status, for a consumer that reads
/// them at its own pace. Memory is bounded by the number of keys; the syncer never waits for the consumer.
/// </summary>
internal sealed class LatestChanges : ISyncerCallbacks
{
    private readonly Lock _sync = new();
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private Dictionary<string, KVPair> _changes = new(StringComparer.Ordinal);
    private SyncStatus _status = SyncStatus.WaitForDatastore;
    private bool _closed;

    public void OnStatusUpdated(SyncStatus status)
    {
        lock (_sync)
        {
            _status = status;
        }

        _signal.Writer.TryWrite(true);
    }

    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        lock (_sync)
        {
            if (_closed)
            {
                return;
            }

            foreach (Update update in updates)
            {
                // A deletion is kept as the pair with a null value.
                KVPair pair = update.UpdateType == UpdateType.Deleted && update.KVPair.Value is not null ? update.KVPair with { Value = null } : update.KVPair;
                _changes[pair.Key.DefaultPath] = pair;
            }
        }

        _signal.Writer.TryWrite(true);
    }

    /// <summary>Stops taking changes (the syncer's stop-time deletions are not for the consumer).</summary>
    public void Close()
    {
        lock (_sync)
        {
            _closed = true;
        }
    }

    /// <summary>Waits until something may have changed.</summary>
    public ValueTask<bool> WaitAsync(CancellationToken cancellationToken) => _signal.Reader.ReadAsync(cancellationToken);

    /// <summary>Takes the changes gathered so far and the current status.</summary>
    public (Dictionary<string, KVPair> Changes, SyncStatus Status) Take()
    {
        lock (_sync)
        {
            Dictionary<string, KVPair> changes = _changes;
            if (changes.Count > 0)
            {
                _changes = new Dictionary<string, KVPair>(StringComparer.Ordinal);
            }

            return (changes, _status);
        }
    }
}
