using Microsoft.Extensions.Logging;

namespace WatcherSync;

/// <summary>
/// The callbacks of a shared syncer's one <see cref="WatcherSyncer"/>: keeps the current picture (keys and values)
/// and the status announced, and copies every call to each handler's buffer. A handler added late is given the
/// picture as New, between ResyncInProgress and the current status, before anything that follows.
/// </summary>
/// <remarks>
/// All state is guarded by <c>_sync</c>, and every call into a handler's buffer is made under it, so that each
/// buffer's input is one ordered stream: the picture a late handler is given and the updates after it never interleave.
/// Buffers never wait for their handler (only for their own short lock), so a slow handler holds nobody up.
/// <list type="bullet">
/// <item><c>_picture</c> holds exactly the keys the syncer's callbacks were told New or Updated and not Deleted since,
/// with the latest pair of each.</item>
/// <item><c>_status</c> is null until the syncer announces a status, then the last one announced.</item>
/// <item><c>_handlers</c> are the handlers added and not removed; once <c>_closed</c> (the shared syncer stopped), no
/// handler is added and the list only empties.</item>
/// </list>
/// </remarks>
internal sealed class SharedPicture(string syncerName, ILogger logger, ILoggerFactory? loggerFactory, System.Diagnostics.Metrics.IMeterFactory? meterFactory) : ISyncerCallbacks, ISyncerParseFailCallbacks, ISyncFailCallbacks, ISyncerStoppingCallbacks
{
    private readonly Lock _sync = new();
    private readonly Dictionary<string, KVPair> _picture = new(StringComparer.Ordinal);
    private readonly List<SharedHandler> _handlers = [];
    private SyncStatus? _status;
    private bool _closed;
    private SyncerCallbackException? _handlerFailure;
    private readonly TaskCompletionSource _handlerFailed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _lastSyncFailure;

    /// <summary>Gets a task that faults with the first handler failure (and never completes otherwise).</summary>
    public Task HandlerFailed => _handlerFailed.Task;

    /// <summary>Gets the error of the syncer's last SyncFailed since it was last in sync, or null.</summary>
    public Exception? LastSyncFailure => Volatile.Read(ref _lastSyncFailure);

    /// <summary>Gets the first failure of any handler, or null while none has thrown.</summary>
    public SyncerCallbackException? HandlerFailure => Volatile.Read(ref _handlerFailure);

    /// <summary>Gets the number of keys in the picture.</summary>
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

    /// <summary>Adds a handler and queues the current picture for it; null when the shared syncer has stopped.</summary>
    public SharedHandler? Add(ISyncerCallbacks callbacks, SyncerHandlerOptions options)
    {
        // A handler's buffer logs and measures where the syncer does, unless its options say otherwise.
        DedupeBufferOptions buffer = options.Buffer;
        if ((buffer.LoggerFactory is null && loggerFactory is not null) || (buffer.MeterFactory is null && meterFactory is not null))
        {
            buffer = new DedupeBufferOptions { BatchSize = buffer.BatchSize, LoggerFactory = buffer.LoggerFactory ?? loggerFactory, MeterFactory = buffer.MeterFactory ?? meterFactory };
        }

        var handler = new SharedHandler(callbacks, options, buffer, logger, ex =>
        {
            var failure = new SyncerCallbackException(syncerName, ex);
            if (Interlocked.CompareExchange(ref _handlerFailure, failure, null) is null)
            {
                _handlerFailed.TrySetException(failure);

                // Observed here: a failure nobody waited on must not raise TaskScheduler.UnobservedTaskException.
                _ = _handlerFailed.Task.Exception;
            }

            return failure;
        });
        int keys;
        lock (_sync)
        {
            if (_closed)
            {
                handler.Buffer.Dispose();
                return null;
            }

            keys = _picture.Count;
            if (_status is { } status)
            {
                handler.Buffer.OnStatusUpdated(SyncStatus.ResyncInProgress);
                if (_picture.Count > 0)
                {
                    var current = new List<Update>(_picture.Count);
                    foreach (KVPair pair in _picture.Values)
                    {
                        current.Add(new Update(pair, UpdateType.New));
                    }

                    handler.Buffer.OnUpdatesKeysKnown(current, [.. _picture.Keys]);
                }

                handler.Buffer.OnStatusUpdated(status);
            }

            _handlers.Add(handler);

            // Started under the lock: a stop that comes next ends a handler whose pump runs, so it gets what was queued.
            handler.Start();
        }

        SharedSyncerLog.HandlerAdded(logger, handler.Name, keys);
        return handler;
    }

    /// <summary>Removes a handler: queues its deletes when it wants them, then ends it once its queue is delivered.</summary>
    public Task RemoveAsync(SharedHandler handler)
    {
        lock (_sync)
        {
            if (_handlers.Remove(handler))
            {
                if (handler.DeleteOnRemove && _picture.Count > 0)
                {
                    // The buffer forwards only the deletes of keys the handler holds, and drops queued keys it never got.
                    var deletes = new List<Update>(_picture.Count);
                    foreach (KVPair pair in _picture.Values)
                    {
                        deletes.Add(new Update(new KVPair(pair.Key, null, pair.Revision), UpdateType.Deleted));
                    }

                    handler.Buffer.OnUpdatesKeysKnown(deletes, [.. _picture.Keys]);
                }

                SharedSyncerLog.HandlerRemoved(logger, handler.Name, handler.DeleteOnRemove ? "its keys deleted" : "keeping its keys");
            }
        }

        return handler.EndAsync(_sync);
    }

    /// <summary>The shared syncer has stopped (its deletes delivered): no handler is added any more; ends every handler.</summary>
    public Task CloseAsync()
    {
        SharedHandler[] handlers;
        lock (_sync)
        {
            _closed = true;
            handlers = [.. _handlers];
            _handlers.Clear();
        }

        return Task.WhenAll(handlers.Select(h => h.EndAsync(_sync)));
    }

    public void OnStatusUpdated(SyncStatus status)
    {
        if (status == SyncStatus.InSync)
        {
            Volatile.Write(ref _lastSyncFailure, null);
        }

        lock (_sync)
        {
            _status = status;
            foreach (SharedHandler handler in _handlers)
            {
                handler.Buffer.OnStatusUpdated(status);
            }
        }
    }

    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        lock (_sync)
        {
            // The keys are serialized once for every buffer.
            var keys = new string[updates.Count];
            for (int i = 0; i < updates.Count; i++)
            {
                Update update = updates[i];
                string key = keys[i] = update.KVPair.Key.DefaultPath;
                if (update.UpdateType == UpdateType.Deleted)
                {
                    _picture.Remove(key);
                }
                else
                {
                    _picture[key] = update.KVPair;
                }
            }

            foreach (SharedHandler handler in _handlers)
            {
                handler.Buffer.OnUpdatesKeysKnown(updates, keys);
            }
        }
    }

    public void ParseFailed(string rawKey, string? rawValue)
    {
        lock (_sync)
        {
            foreach (SharedHandler handler in _handlers)
            {
                handler.Buffer.ParseFailed(rawKey, rawValue);
            }
        }
    }

    public void SyncFailed(Exception error)
    {
        Volatile.Write(ref _lastSyncFailure, error);
        lock (_sync)
        {
            foreach (SharedHandler handler in _handlers)
            {
                handler.Buffer.SyncFailed(error);
            }
        }
    }

    /// <summary>The syncer is stopping: each handler is told so in its queue, before the stop's deletes.</summary>
    public void OnStopping()
    {
        lock (_sync)
        {
            foreach (SharedHandler handler in _handlers)
            {
                handler.Buffer.OnStopping();
            }
        }
    }
}
