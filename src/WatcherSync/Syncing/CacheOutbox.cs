using System.Threading.Channels;

namespace WatcherSync;

/// <summary>
/// Everything a watcher cache has applied to its key set but not yet handed to the syncer loop, in order: the open
/// batch of updates, and the messages sealed before it. Every change to the key set ends up here and is handed over by
/// <see cref="FlushAsync"/>, the one way out of the cache, which never gives up on a message; so the consumer's
/// picture is always what the key set says once the cache has stopped, and the stop's deletes match it exactly.
/// </summary>
/// <remarks>Invariant: <c>_batch</c> holds only updates made after every message in <c>_sealed</c>. Used by the cache's one loop only.</remarks>
internal sealed class CacheOutbox(int index, int maxUpdatesPerBatch, ChannelWriter<CacheMessage> output)
{
    private readonly List<CacheMessage> _sealed = [];
    private List<Update> _batch = [];

    /// <summary>Gets whether the open batch or the sealed messages have reached the batch size: time to flush.</summary>
    public bool IsFull => _batch.Count >= maxUpdatesPerBatch || _sealed.Count >= maxUpdatesPerBatch;

    /// <summary>Adds an update to the open batch.</summary>
    public void Add(Update update) => _batch.Add(update);

    /// <summary>
    /// Closes the open batch (if any) and queues a message of <paramref name="kind"/> after it; an in-sync message of a
    /// full list carries the list's <paramref name="revision"/>.
    /// </summary>
    public void Seal(CacheMessageKind kind, ParseFailure? parseFailure = null, Exception? error = null, string? revision = null)
    {
        SealBatch();
        _sealed.Add(new CacheMessage(kind, index, ParseFailure: parseFailure, Error: error, Revision: revision));
    }

    /// <summary>
    /// Hands everything so far to the syncer loop, in order; returns false when there was nothing. It is not
    /// cancellable on purpose: a message given up would leave the key set ahead of the consumer. It cannot hang a stop
    /// either, because the loop reads until every cache has returned.
    /// </summary>
    public async ValueTask<bool> FlushAsync()
    {
        SealBatch();
        if (_sealed.Count == 0)
        {
            return false;
        }

        foreach (CacheMessage message in _sealed)
        {
            await output.WriteAsync(message, CancellationToken.None).ConfigureAwait(false);
        }

        _sealed.Clear();
        return true;
    }

    private void SealBatch()
    {
        if (_batch.Count > 0)
        {
            // The next batch is sized like this one: a list fills whole batches without growing them, a trickle of
            // watch events keeps small ones.
            int size = _batch.Count;
            _sealed.Add(new CacheMessage(CacheMessageKind.Updates, index, _batch));
            _batch = new List<Update>(Math.Min(maxUpdatesPerBatch, Math.Max(size, 16)));
        }
    }
}
