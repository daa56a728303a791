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
    private bool _initialStateRead;
    private int _looks;

    /// <summary>Gets how many times the consumer has looked at the gathered changes (for tests).</summary>
    internal int Looks => Volatile.Read(ref _looks);

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

    /// <summary>
    /// Waits for the next whole state and takes the changes gathered since the last call. Changes made while a
    /// (re)sync is under way are held until InSync, so the consumer sees whole states only. The first call returns at
    /// the first InSync, even with no change; later calls only when something changed. Single consumer.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public async ValueTask<Dictionary<string, KVPair>> ReadSyncedAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _signal.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            lock (_sync)
            {
                _looks++;
                if (_status != SyncStatus.InSync || (_initialStateRead && _changes.Count == 0))
                {
                    continue;
                }

                _initialStateRead = true;
                Dictionary<string, KVPair> changes = _changes;
                _changes = new Dictionary<string, KVPair>(StringComparer.Ordinal);
                return changes;
            }
        }
    }
}
