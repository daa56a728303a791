using System.Buffers;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace WatcherSync;

/// <summary>
/// Sits between a syncer and a slow sink and coalesces per key, so memory is bounded by the number of distinct keys
/// whatever the update rate. Updates and statuses go in through <see cref="ISyncerCallbacks"/> (any thread, never
/// waiting for the sink); <see cref="SendToSinkForeverAsync(ISyncerCallbacks, CancellationToken)"/> hands them to the sink in order, in batches.
/// </summary>
/// <remarks>
/// <para>An update for a key that is already queued replaces the queued one in place (it keeps the older position).
/// The buffer tracks the keys the sink holds and sets each update's type from that: <see cref="UpdateType.New"/>
/// when the sink lacks the key, <see cref="UpdateType.Updated"/> when it has it. A delete of a key the sink never had
/// is not forwarded; a delete of a key that is queued but was never sent removes it.</para>
/// <para>A repeat of the last status received is dropped, and a status arriving when the newest queued item is a
/// status replaces it. A status is delivered after the updates queued before it. The sink is never told the same
/// status twice in a row.</para>
/// <para>Parse failures (<see cref="ISyncerParseFailCallbacks"/>) and sync failures (<see cref="ISyncFailCallbacks"/>)
/// are items of the same queue: each reaches the sink in its place, after the updates and statuses queued before it,
/// and only when the sink implements the interface. Nothing reaches the sink but through the send loop, one call at a
/// time.</para>
/// <para>Failures coalesce too, so memory stays bounded by the distinct keys: a parse failure of a raw key whose
/// earlier failure is still queued drops that one and is queued at the tail, in its own place (it never overtakes the
/// updates queued before it); likewise at most one sync failure is queued, the newest. A good update of a key does not
/// remove its queued parse failure: the bad write happened, and the update follows it. The sink is told
/// <see cref="ISyncFailCallbacks.SyncFailed"/> only after <see cref="SyncStatus.WaitForDatastore"/>, never while it was
/// last told it is in sync (see <see cref="OnConnectionRestarted"/>).</para>
/// <para>A stop (<see cref="ISyncerStoppingCallbacks.OnStopping"/>) is an item of the queue too: the sink is told, if it
/// implements <see cref="ISyncerStoppingCallbacks"/> (or <see cref="IAsyncSyncerCallbacks.OnStoppingAsync"/>), after
/// every update queued before it and before the stop's deletes, as a sink on the syncer itself would be.</para>
/// </remarks>
public sealed partial class DedupeBuffer : ISyncerCallbacks, ISyncerParseFailCallbacks, ISyncFailCallbacks, ISyncerStoppingCallbacks, IDisposable
{
    /// <summary>The key map is rebuilt once it has held this many keys and then lost three quarters of them.</summary>
    internal const int ShrinkThreshold = 4096;

    // All state below is guarded by _sync. Valid combinations:
    // - _entries holds exactly the keys whose node is queued with an update or held by the sink (DedupeEntry.Held);
    //   _heldCount is the number of held ones. Status and failure nodes are in _queue only, never in _entries.
    // - _disposed implies _stopped; _stopped and _completed are each set once and never cleared; once either is set,
    //   inputs are ignored. _completed without _stopped: the send loop drains the queue, then ends.
    // - _waiter is non-null only while a send loop (_sending) waits on an empty queue.
    // - _resyncInProgress: OnConnectionRestarted was called and no InSync received since; keys whose SeenEpoch is not
    //   _resyncEpoch are deleted at that InSync.
    // - _failures indexes exactly the failure nodes in _queue: at most one parse failure per raw key and one sync
    //   failure are queued (DedupeFailures), so the queue is bounded by the keys, the raw keys that failed, and the
    //   statuses between them (a status never follows a status).
    // - A queued SyncFailed is preceded, in what the sink will have been told when it is reached, by WaitForDatastore:
    //   the upstream sends it after that status, and OnConnectionRestarted, which discards queued statuses, puts a
    //   WaitForDatastore back before a sync failure it keeps.
    private readonly Lock _sync = new();
    private readonly Dictionary<string, DedupeEntry> _entries = new(StringComparer.Ordinal);
    private readonly DedupeQueue _queue = new();
    private readonly DedupeFailures _failures = new();
    private readonly int _batchSize;
    private readonly ILogger _logger;
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private TaskCompletionSource? _waiter;
    private SyncStatus? _lastStatusReceived;
    private SyncStatus? _sinkStatus;
    private bool _resyncInProgress;
    private int _resyncEpoch;
    private int _entriesPeak;
    private int _heldCount;
    private long _coalesced;
    private bool _sending;
    private bool _stopped;
    private bool _completed;
    private bool _disposed;

    /// <summary>Creates an empty buffer.</summary>
    /// <param name="options">The options; null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public DedupeBuffer(DedupeBufferOptions? options = null)
    {
        options ??= new DedupeBufferOptions();
        options.Validate();
        _batchSize = options.BatchSize;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<DedupeBuffer>();
        _meter = WatcherSyncMeter.Create(options.MeterFactory);
        _ownsMeter = options.MeterFactory is null;
        _meter.CreateObservableGauge(
            "watchersync.dedupe.queue.length", () => Observe(QueueLength), "{item}", "Updates, statuses and failures waiting for the sink.");
        _meter.CreateObservableGauge(
            "watchersync.dedupe.keys.held", () => Observe(KeysHeldBySink), "{key}", "Keys the sink holds.");
        _meter.CreateObservableCounter(
            "watchersync.dedupe.updates.coalesced", () => Observe(UpdatesCoalesced), "{update}", "Updates merged into a queued one or dropped as moot.");
    }

    /// <summary>Gets how many items (updates, statuses and failures) wait for the sink. Never more than the distinct keys, plus one parse failure per raw key that failed and one sync failure, plus a status between any two of them.</summary>
    public int QueueLength
    {
        get
        {
            lock (_sync)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Gets how many keys the sink holds: handed to it as New or Updated, and not deleted since.</summary>
    public int KeysHeldBySink
    {
        get
        {
            lock (_sync)
            {
                return _heldCount;
            }
        }
    }

    /// <summary>
    /// Gets how many updates never reached the sink on their own: replaced in place by a later update for the same key,
    /// cancelled together with the delete of a key queued but never sent (both count), or a delete of a key the sink
    /// never had, or discarded by <see cref="OnConnectionRestarted"/>. The deletes a resync implies count as updates.
    /// </summary>
    public long UpdatesCoalesced
    {
        get
        {
            lock (_sync)
            {
                return _coalesced;
            }
        }
    }

    /// <summary>Gets the capacity of the key map, to show it shrinks.</summary>
    internal int KeyMapCapacity
    {
        get
        {
            lock (_sync)
            {
                return _entries.EnsureCapacity(0);
            }
        }
    }

    /// <summary>Queues <paramref name="status"/>; a repeat of the last status received is dropped.</summary>
    /// <param name="status">The new status.</param>
    public void OnStatusUpdated(SyncStatus status)
    {
        TaskCompletionSource? wake;
        int resyncDeletes = -1;
        lock (_sync)
        {
            if (_stopped || _completed)
            {
                return;
            }

            if (status == SyncStatus.InSync && _resyncInProgress)
            {
                resyncDeletes = FinishResync();
            }

            if (status != _lastStatusReceived)
            {
                _lastStatusReceived = status;
                if (_queue.Tail is { IsStatus: true } tail)
                {
                    tail.Status = status;
                }
                else
                {
                    DedupeEntry node = _queue.Rent();
                    node.Kind = DedupeItemKind.Status;
                    node.Status = status;
                    _queue.Append(node);
                }
            }

            wake = TakeWaiter();
        }

        if (resyncDeletes >= 0)
        {
            Log.ResyncFinished(_logger, resyncDeletes);
        }

        wake?.TrySetResult();
    }

    /// <summary>
    /// Queues a parse failure, to reach the sink after everything queued before it; a queued failure of the same raw
    /// key is dropped (the newest report of a bad key is kept).
    /// </summary>
    /// <param name="rawKey">The raw key that could not be parsed.</param>
    /// <param name="rawValue">Its raw value, if any.</param>
    public void ParseFailed(string rawKey, string? rawValue) => EnqueueFailure(DedupeItemKind.ParseFailed, new ParseFailure(rawKey, rawValue));

    /// <summary>Queues a sync failure, to reach the sink after everything queued before it; a queued sync failure is dropped (the newest is kept).</summary>
    /// <param name="error">Why the upstream lost the datastore.</param>
    /// <exception cref="ArgumentNullException"><paramref name="error"/> is null.</exception>
    public void SyncFailed(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        EnqueueFailure(DedupeItemKind.SyncFailed, error);
    }

    /// <summary>
    /// Queues the news that the upstream is stopping, to reach the sink after everything queued before it and before the
    /// deletes that follow (a sink that persists its picture can tell them from real deletes).
    /// </summary>
    public void OnStopping()
    {
        TaskCompletionSource? wake;
        lock (_sync)
        {
            if (_stopped || _completed)
            {
                return;
            }

            DedupeEntry node = _queue.Rent();
            node.Kind = DedupeItemKind.Stopping;
            node.Failure = StopNotice.Instance;
            _queue.Append(node);
            wake = TakeWaiter();
        }

        wake?.TrySetResult();
    }

    /// <summary>Queues <paramref name="updates"/>, keyed by <see cref="IKey.DefaultPath"/>.</summary>
    /// <param name="updates">The updates, oldest first. The list is not kept.</param>
    /// <exception cref="ArgumentNullException"><paramref name="updates"/> is null.</exception>
    /// <exception cref="ArgumentException">An update has no pair; the updates before it are taken.</exception>
    public void OnUpdates(IReadOnlyList<Update> updates) => OnUpdatesKeysKnown(updates, []);

    /// <summary>
    /// Queues <paramref name="updates"/> with their serialized keys already known, which saves computing them.
    /// Once a key has been seen, this allocates nothing.
    /// </summary>
    /// <param name="updates">The updates, oldest first. The list is not kept.</param>
    /// <param name="keys">
    /// <c>keys[i]</c> is the serialized key of <c>updates[i]</c>; a null or empty entry, or a list shorter than
    /// <paramref name="updates"/>, means "use <see cref="IKey.DefaultPath"/>".
    /// </param>
    /// <exception cref="ArgumentNullException"><paramref name="updates"/> or <paramref name="keys"/> is null.</exception>
    /// <exception cref="ArgumentException">An update has no pair; the updates before it are taken.</exception>
    public void OnUpdatesKeysKnown(IReadOnlyList<Update> updates, IReadOnlyList<string?> keys)
    {
        ArgumentNullException.ThrowIfNull(updates);
        ArgumentNullException.ThrowIfNull(keys);
        int count = updates.Count;
        if (count == 0)
        {
            return;
        }

        // Arrays and lists (what callers hand in) are read as spans: no interface call per update.
        Update[]? rentedUpdates = null;
        string?[]? rentedKeys = null;
        TaskCompletionSource? wake = null;
        (int Peak, int Live)? shrunk = null;
        try
        {
            ReadOnlySpan<Update> updateSpan = AsSpan(updates, ref rentedUpdates);
            ReadOnlySpan<string?> keySpan = AsSpan(keys, ref rentedKeys);
            lock (_sync)
            {
                if (_stopped || _completed)
                {
                    return;
                }

                try
                {
                    for (int i = 0; i < updateSpan.Length; i++)
                    {
                        ref readonly Update update = ref updateSpan[i];
                        KVPair kv = update.KVPair ?? throw new ArgumentException($"Update {i} has no pair.", nameof(updates));
                        string? key = (uint)i < (uint)keySpan.Length ? keySpan[i] : null;
                        Enqueue(string.IsNullOrEmpty(key) ? kv.Key.DefaultPath : key, kv, kv.Value is null || update.UpdateType == UpdateType.Deleted);
                    }
                }
                finally
                {
                    // Even when an update is refused, the ones before it are queued and the sender must hear of them.
                    wake = TakeWaiter();
                    shrunk = MaybeShrink();
                }
            }
        }
        finally
        {
            Return(rentedUpdates);
            Return(rentedKeys);
            LogShrink(shrunk);
            wake?.TrySetResult();
        }
    }

    /// <summary>
    /// Hands queued items to <paramref name="sink"/>, in order, until <see cref="Stop"/>, cancellation, or
    /// <see cref="Complete"/> and an empty queue. Updates go
    /// in <see cref="ISyncerCallbacks.OnUpdates"/> calls of at most the batch size, each with a fresh list the sink may
    /// keep; a status is delivered after the updates before it. The sink is called outside the buffer's lock, on a
    /// thread-pool thread, one call at a time; inputs keep being taken while it runs.
    /// </summary>
    /// <param name="sink">The slow consumer.</param>
    /// <param name="cancellationToken">Ends the loop with <see cref="OperationCanceledException"/>.</param>
    /// <returns>
    /// A task that completes after <see cref="Stop"/> (at most one batch later) or once a completed buffer is empty, is cancelled with
    /// <paramref name="cancellationToken"/>, or faults with the exception the sink threw. The batch the sink threw on
    /// counts as delivered; the buffer stays consistent and a new call carries on from the next item.
    /// </returns>
    /// <exception cref="ArgumentNullException"><paramref name="sink"/> is null.</exception>
    /// <exception cref="InvalidOperationException">Another call is still sending.</exception>
    public Task SendToSinkForeverAsync(ISyncerCallbacks sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sink);
        StartSending();
        return SendLoopAsync(
            (batch, status, failure, _) =>
            {
                Deliver(sink, batch, status, failure);
                return ValueTask.CompletedTask;
            },
            cancellationToken);
    }

    /// <summary>
    /// As <see cref="SendToSinkForeverAsync(ISyncerCallbacks, CancellationToken)"/>, for a sink that awaits its I/O: the
    /// next call starts when the task of the last has completed, and meanwhile no thread is held.
    /// </summary>
    /// <param name="sink">The slow consumer.</param>
    /// <param name="cancellationToken">Ends the loop with <see cref="OperationCanceledException"/>; passed to every call.</param>
    /// <returns>The task of the loop, as for the synchronous sink. An <see cref="OperationCanceledException"/> the sink throws while <paramref name="cancellationToken"/> is not cancelled (a timeout of its own, as HttpClient reports one) faults the loop, wrapped in an <see cref="InvalidOperationException"/>: it is the sink's failure, not a shutdown.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="sink"/> is null.</exception>
    /// <exception cref="InvalidOperationException">Another call is still sending.</exception>
    public Task SendToSinkForeverAsync(IAsyncSyncerCallbacks sink, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sink);
        StartSending();
        return SendLoopAsync((batch, status, failure, token) => DeliverAsync(sink, batch, status, failure, token), cancellationToken);
    }

    /// <summary>
    /// Marks the buffer complete: later inputs are ignored, and <see cref="SendToSinkForeverAsync(ISyncerCallbacks, CancellationToken)"/> returns once
    /// everything queued has been handed to the sink (a syncer's stop-time deletes included, when called after the
    /// syncer has stopped). Use <see cref="Stop"/> to end sooner and drop what is queued. Calling it again does nothing.
    /// </summary>
    public void Complete()
    {
        TaskCompletionSource? wake;
        int queued;
        lock (_sync)
        {
            if (_stopped || _completed)
            {
                return;
            }

            _completed = true;
            queued = _queue.Count;
            wake = _waiter;
            _waiter = null;
        }

        Log.Completed(_logger, queued);
        wake?.TrySetResult();
    }

    /// <summary>
    /// Stops the buffer: <see cref="SendToSinkForeverAsync(ISyncerCallbacks, CancellationToken)"/> returns once the sink call in progress (if any) returns,
    /// and later inputs are ignored.
    /// </summary>
    public void Stop()
    {
        TaskCompletionSource? wake;
        int queued;
        lock (_sync)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            queued = _queue.Count;
            wake = _waiter;
            _waiter = null;
        }

        Log.Stopped(_logger, queued);
        wake?.TrySetResult();
    }

    /// <summary>Stops the buffer, releases what it holds and disposes the meter it made. Calling it again does nothing.</summary>
    public void Dispose()
    {
        Stop();
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            Volatile.Write(ref _disposed, true);
            _queue.Clear();
            _failures.Clear();
            _entries.Clear();
            _entries.TrimExcess();
        }

        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    /// <summary>One measurement, or none once the buffer is disposed (a factory's meter outlives the buffer).</summary>
    private Measurement<T>[] Observe<T>(T value)
        where T : struct => Volatile.Read(ref _disposed) ? [] : [new Measurement<T>(value)];

    private void EnqueueFailure(DedupeItemKind kind, object failure)
    {
        TaskCompletionSource? wake;
        lock (_sync)
        {
            if (_stopped || _completed)
            {
                return;
            }

            _failures.Enqueue(_queue, kind, failure);
            wake = TakeWaiter();
        }

        wake?.TrySetResult();
    }

    /// <summary>The items of <paramref name="list"/> as a span: an array's or a list's own, or a copy in a rented array.</summary>
    private static ReadOnlySpan<T> AsSpan<T>(IReadOnlyList<T> list, ref T[]? rented)
    {
        switch (list)
        {
            case T[] array:
                return array;
            case List<T> items:
                return CollectionsMarshal.AsSpan(items);
            default:
                int count = list.Count;
                if (count == 0)
                {
                    return [];
                }

                rented = ArrayPool<T>.Shared.Rent(count);
                for (int i = 0; i < count; i++)
                {
                    rented[i] = list[i];
                }

                return rented.AsSpan(0, count);
        }
    }

    private static void Return<T>(T[]? rented)
    {
        if (rented is not null)
        {
            ArrayPool<T>.Shared.Return(rented, clearArray: RuntimeHelpers.IsReferenceOrContainsReferences<T>());
        }
    }

    /// <summary>Under the lock: queues one update for <paramref name="key"/>.</summary>
    private void Enqueue(string key, KVPair kv, bool isDelete)
    {
        ref DedupeEntry slot = ref CollectionsMarshal.GetValueRefOrNullRef(_entries, key);
        if (!Unsafe.IsNullRef(ref slot))
        {
            Apply(slot, kv, isDelete);
            return;
        }

        if (isDelete)
        {
            // Neither held by the sink nor queued: there is nothing to delete.
            _coalesced++;
            return;
        }

        DedupeEntry entry = _queue.Rent();
        entry.Key = key;
        entry.KeyObject = kv.Key;
        entry.Pending = kv;
        entry.SeenEpoch = _resyncEpoch;
        _entries.Add(key, entry);
        if (_entries.Count > _entriesPeak)
        {
            _entriesPeak = _entries.Count;
        }

        _queue.Append(entry);
    }

    /// <summary>Under the lock: applies an update to a key the buffer knows (held by the sink, queued, or both).</summary>
    private void Apply(DedupeEntry entry, KVPair kv, bool isDelete)
    {
        if (_resyncInProgress)
        {
            entry.SeenEpoch = _resyncEpoch;
        }

        if (entry.Queued)
        {
            if (isDelete && !entry.Held)
            {
                // Queued but never sent: the sink need hear nothing of this key.
                _queue.Remove(entry);
                _entries.Remove(entry.Key);
                _queue.Return(entry);
                _coalesced += 2;
                return;
            }

            _coalesced++;
        }
        else
        {
            _queue.Append(entry);
        }

        entry.KeyObject = kv.Key;
        entry.Pending = kv;
        entry.PendingDelete = isDelete;
    }

    /// <summary>
    /// Under the lock: rebuilds the key map once it has lost most of a large peak (a <see cref="Dictionary{TKey, TValue}"/>
    /// never gives buckets back by itself). Returns the peak and live key counts when it did.
    /// </summary>
    private (int Peak, int Live)? MaybeShrink()
    {
        int live = _entries.Count;
        int peak = _entriesPeak;
        if (peak < ShrinkThreshold || live > peak / 4)
        {
            return null;
        }

        _entries.TrimExcess();
        _entriesPeak = live;
        return (peak, live);
    }

    private void LogShrink((int Peak, int Live)? shrunk)
    {
        if (shrunk is { } s)
        {
            Log.KeyMapShrunk(_logger, s.Peak, s.Live);
        }
    }

    /// <summary>Under the lock: takes the idle sender's wake-up when there is something for it.</summary>
    private TaskCompletionSource? TakeWaiter()
    {
        if (_waiter is null || _queue.Count == 0)
        {
            return null;
        }

        TaskCompletionSource waiter = _waiter;
        _waiter = null;
        return waiter;
    }
}
