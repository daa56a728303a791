using System.Runtime.CompilerServices;

namespace WatcherSync;

/// <summary>The output side of the buffer: the send loop, and how it takes items from the queue and hands them to the sink.</summary>
public sealed partial class DedupeBuffer
{
    /// <summary>Hands everything queued now to <paramref name="sink"/> on the calling thread, as the send loop would.</summary>
    internal void DrainTo(ISyncerCallbacks sink)
    {
        StartSending();
        try
        {
            var scratch = new Update[_batchSize];
            while (true)
            {
                int count;
                SyncStatus? status;
                object? failure;
                (int Peak, int Live)? shrunk;
                bool any;
                lock (_sync)
                {
                    any = TakeBatch(scratch, out count, out status, out failure, out shrunk);
                }

                LogShrink(shrunk);
                if (!any)
                {
                    return;
                }

                Deliver(sink, Take(scratch, count), status, failure);
            }
        }
        finally
        {
            StopSending();
        }
    }

    /// <summary>Copies the batch out of the reusable scratch array (the sink may keep it) and clears the scratch.</summary>
    private static Update[]? Take(Update[] scratch, int count)
    {
        if (count == 0)
        {
            return null;
        }

        Update[] batch = scratch.AsSpan(0, count).ToArray();
        Array.Clear(scratch, 0, count);
        return batch;
    }

    private async Task SendLoopAsync(Func<Update[]?, SyncStatus?, object?, CancellationToken, ValueTask> deliver, CancellationToken cancellationToken)
    {
        try
        {
            // Never run the sink on the caller's stack: a blocked sink must not keep the caller from getting the task.
            await Task.CompletedTask.ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
            using CancellationTokenRegistration registration = cancellationToken.UnsafeRegister(static s => ((DedupeBuffer)s!).WakeSender(), this);
            var scratch = new Update[_batchSize];
            while (true)
            {
                int count;
                SyncStatus? status;
                object? failure;
                (int Peak, int Live)? shrunk;
                Task? idle = null;
                lock (_sync)
                {
                    if (_stopped)
                    {
                        return;
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    if (!TakeBatch(scratch, out count, out status, out failure, out shrunk))
                    {
                        if (_completed)
                        {
                            return;
                        }

                        _waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                        idle = _waiter.Task;
                    }
                }

                LogShrink(shrunk);

                if (idle is not null)
                {
                    await idle.ConfigureAwait(false);
                    continue;
                }

                await deliver(Take(scratch, count), status, failure, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            StopSending();
        }
    }

    private void StartSending()
    {
        lock (_sync)
        {
            if (_sending)
            {
                throw new InvalidOperationException("The dedupe buffer is already sending to a sink.");
            }

            _sending = true;
        }
    }

    private void StopSending()
    {
        lock (_sync)
        {
            _sending = false;
            _waiter = null;
        }
    }

    private void WakeSender()
    {
        TaskCompletionSource? wake;
        lock (_sync)
        {
            wake = _waiter;
            _waiter = null;
        }

        wake?.TrySetResult();
    }

    private void Deliver(ISyncerCallbacks sink, Update[]? batch, SyncStatus? status, object? failure)
    {
        try
        {
            if (batch is not null)
            {
                sink.OnUpdates(batch);
            }

            if (status is { } s)
            {
                sink.OnStatusUpdated(s);
            }

            switch (failure)
            {
                case ParseFailure parse:
                    (sink as ISyncerParseFailCallbacks)?.ParseFailed(parse.RawKey, parse.RawValue);
                    break;
                case Exception error:
                    (sink as ISyncFailCallbacks)?.SyncFailed(error);
                    break;
                case StopNotice:
                    (sink as ISyncerStoppingCallbacks)?.OnStopping();
                    break;
            }
        }
        catch (Exception ex)
        {
            Log.SinkFailed(_logger, ex);
            throw;
        }
    }

    private async ValueTask DeliverAsync(IAsyncSyncerCallbacks sink, Update[]? batch, SyncStatus? status, object? failure, CancellationToken cancellationToken)
    {
        try
        {
            if (batch is not null)
            {
                await sink.OnUpdatesAsync(batch, cancellationToken).ConfigureAwait(false);
            }

            if (status is { } s)
            {
                await sink.OnStatusUpdatedAsync(s, cancellationToken).ConfigureAwait(false);
            }

            switch (failure)
            {
                case ParseFailure parse:
                    await sink.ParseFailedAsync(parse.RawKey, parse.RawValue, cancellationToken).ConfigureAwait(false);
                    break;
                case Exception error:
                    await sink.SyncFailedAsync(error, cancellationToken).ConfigureAwait(false);
                    break;
                case StopNotice:
                    await sink.OnStoppingAsync(cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.SinkFailed(_logger, ex);
            if (ex is OperationCanceledException)
            {
                // Nobody cancelled the loop: the sink's own timeout (HttpClient reports one so). Rethrown as is, the loop
                // would end Canceled, and the usual catch (OperationCanceledException) around it would take the sink's
                // failure for a shutdown.
                throw new InvalidOperationException($"The sink was cancelled although the loop was not (a timeout of its own?): {ex.Message}", ex);
            }

            throw;
        }
    }

    /// <summary>
    /// Under the lock: moves up to a batch of updates into <paramref name="batch"/>, stopping before a status; or, when a
    /// status heads the queue and changes what the sink was last told, takes that status alone. Returns false when
    /// there is nothing to deliver. Shrinks the key map when the keys deleted leave it mostly empty.
    /// </summary>
    private bool TakeBatch(Update[] batch, out int count, out SyncStatus? status, out object? failure, out (int Peak, int Live)? shrunk)
    {
        count = 0;
        status = null;
        failure = null;
        bool removedKeys = false;
        while (count < batch.Length && _queue.Head is { } node)
        {
            if (!node.IsKey && count > 0)
            {
                // The updates before a status or failure go in a call of their own, so every item taken is delivered by one call.
                break;
            }

            _queue.Dequeue();
            if (!node.IsKey && !node.IsStatus)
            {
                failure = node.Failure;
                _failures.Dequeued(node);
                _queue.Return(node);
                break;
            }

            if (node.IsStatus)
            {
                SyncStatus s = node.Status;
                _queue.Return(node);
                if (s == _sinkStatus)
                {
                    continue;
                }

                _sinkStatus = s;
                status = s;
                break;
            }

            KVPair kv = node.Pending!;
            node.Pending = null;
            if (!node.PendingDelete)
            {
                batch[count++] = new Update(kv, node.Held ? UpdateType.Updated : UpdateType.New);
                if (!node.Held)
                {
                    node.Held = true;
                    _heldCount++;
                }

                continue;
            }

            if (node.Held)
            {
                batch[count++] = new Update(kv, UpdateType.Deleted);
                _heldCount--;
            }

            _entries.Remove(node.Key);
            _queue.Return(node);
            removedKeys = true;
        }

        shrunk = removedKeys ? MaybeShrink() : null;
        return count > 0 || status is not null || failure is not null;
    }
}
