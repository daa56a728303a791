using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace WatcherSync;

/// <summary>
/// Lists then watches one resource type and turns what it sees into updates for the syncer loop. It keeps only
/// keys and revisions: New or Updated comes from its own key set, a repeat of the cached revision is swallowed,
/// and keys that vanish across a relist are reported as deleted.
/// </summary>
internal sealed class WatcherCache
{
    private readonly IBackendClient _client;
    private readonly ResourceType _resourceType;
    private readonly IListOptions _list;
    private readonly ISyncerUpdateProcessor? _processor;
    private readonly WatcherSyncerOptions _options;
    private readonly TimeProvider _time;
    private readonly ChannelWriter<CacheMessage> _output;
    private readonly ILogger _logger;
    private readonly SyncerMetrics _metrics;
    private readonly string _syncerName;
    private readonly int _index;
    private readonly Dictionary<string, CacheEntry> _entries = new(StringComparer.Ordinal);

    // Everything the cache has applied to its key set but not yet handed to the syncer loop, in order: the open
    // batch, and the messages sealed before it. Every change to _entries ends up here and is handed over by
    // FlushAsync, the one way out of the cache, which never gives up on a message; so the consumer's picture is
    // always what the key set says once the cache has stopped, and the stop's deletes match it exactly.
    private readonly List<CacheMessage> _sealed = [];
    private List<Update> _batch = [];
    private int _epoch;
    // Where a new watch resumes: a revision all of whose events have been seen (a list, a bookmark, or the
    // revision of an event followed by an event of a later revision). The revision of the last event seen may
    // still have events to come (one etcd transaction or prefix delete is many events at one revision), so a
    // watch that breaks resumes before it; the events seen again are swallowed as repeats.
    private string? _revision;
    private string? _lastEventRevision;
    private long _lastContact;
    private long _lastPassStart = -1;
    private bool _contactLostReported;
    // Set when the datastore was reset, until the next list has been applied: no cached revision counts as "unchanged".
    private bool _revisionsVoid;
    // False once the backend said this resource cannot be watched: it is polled instead.
    private bool _canWatch = true;
    private RelistReason _relistReason = RelistReason.Initial;
    // Whether the loop has been told this cache is resyncing since it last said it was in sync.
    private bool _resyncAnnounced;
    private int _watchErrors;
    private int _keyCount;
    private long _lastEventTimestamp;

    public WatcherCache(
        IBackendClient client,
        ResourceType resourceType,
        int index,
        WatcherSyncerOptions options,
        ChannelWriter<CacheMessage> output,
        ILogger logger,
        SyncerMetrics metrics)
    {
        _client = client;
        _resourceType = resourceType;
        _list = resourceType.ListInterface;
        _processor = resourceType.UpdateProcessor;
        _index = index;
        _options = options;
        _time = options.TimeProvider;
        _output = output;
        _logger = logger;
        _metrics = metrics;
        _syncerName = options.Name;
        _lastContact = _time.GetTimestamp();
        _lastEventTimestamp = _lastContact;
    }

    /// <summary>What the cache is doing; each state is one method that returns the next state.</summary>
    private enum State
    {
        /// <summary>Listing at one revision and reconciling the key set with it (<see cref="ListAsync"/>).</summary>
        Listing,

        /// <summary>Watching from the last complete revision until the watch ends or fails (<see cref="WatchAsync"/>).</summary>
        Watching,

        /// <summary>Waiting for the next poll of a resource that cannot be watched (<see cref="PollAsync"/>).</summary>
        Polling,
    }

    public ResourceType ResourceType => _resourceType;

    /// <summary>Gets the number of keys held as of the last batch handed to the syncer loop (safe to read from any thread).</summary>
    public int KeyCount => Volatile.Read(ref _keyCount);

    /// <summary>Gets the timestamp of the last event or list (safe to read from any thread).</summary>
    public long LastEventTimestamp => Volatile.Read(ref _lastEventTimestamp);

    private string Prefix => _list.DefaultPathRoot;

    /// <summary>
    /// Runs list-then-watch until cancelled. When it returns, everything the cache applied has been handed to the
    /// syncer loop (which must keep reading until every cache has returned).
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // The retry timeout counts from the start, not from construction.
        MarkContact();
        State state = State.Listing;
        try
        {
            while (true)
            {
                // Hand over what the last state left (a relist announcement among it) before pacing the next pass.
                await FlushAsync().ConfigureAwait(false);
                await PaceAsync(cancellationToken).ConfigureAwait(false);
                state = state switch
                {
                    State.Listing => await ListAsync(cancellationToken).ConfigureAwait(false),
                    State.Watching => await WatchAsync(cancellationToken).ConfigureAwait(false),
                    _ => await PollAsync(cancellationToken).ConfigureAwait(false),
                };
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            await FlushAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The Listing state: a full sync; on failure, list again after the retry interval.</summary>
    private async Task<State> ListAsync(CancellationToken cancellationToken)
    {
        if (!await FullSyncAsync(cancellationToken).ConfigureAwait(false))
        {
            await FlushAsync().ConfigureAwait(false);
            await Task.Delay(_options.ListRetryInterval, _time, cancellationToken).ConfigureAwait(false);
            return State.Listing;
        }

        _watchErrors = 0;
        return _canWatch ? State.Watching : State.Polling;
    }

    /// <summary>The Polling state: wait for the poll interval, then list again without announcing a resync.</summary>
    private async Task<State> PollAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(_options.WatchPollInterval, _time, cancellationToken).ConfigureAwait(false);
        return Relist(RelistReason.Poll);
    }

    /// <summary>The Watching state: one watch, then the handling of how it ended (DESIGN, syncer semantics 5).</summary>
    private async Task<State> WatchAsync(CancellationToken cancellationToken)
    {
        (Exception? error, bool progressed) = await WatchOnceAsync(cancellationToken).ConfigureAwait(false);
        _metrics.WatchRestarted(_syncerName);
        if (progressed)
        {
            // Errors count only while the watch is stuck at one revision.
            _watchErrors = 0;
        }

        if (error is null)
        {
            // The stream ended without an error: resume from the last revision seen.
            SyncerLog.WatchEnded(_logger, _syncerName, Prefix, _revision);
            return State.Watching;
        }

        State next;
        switch (error)
        {
            case DatastoreResetException:
                // Revisions from before the reset may recur with other values: compare none of them.
                SyncerLog.WatchFailed(_logger, _syncerName, Prefix, _revision, "datastore reset: relisting every key", error);
                _revisionsVoid = true;
                next = Relist(RelistReason.Reset);
                break;
            case RevisionExpiredException:
                SyncerLog.WatchFailed(_logger, _syncerName, Prefix, _revision, "compacted: relisting", error);
                next = Relist(RelistReason.Compacted);
                break;
            case OperationNotSupportedException:
                SyncerLog.Polling(_logger, _syncerName, Prefix);
                _canWatch = false;
                next = State.Polling;
                break;
            case DatastoreException { IsTransient: true }:
                // Connection refused, no leader, timeouts: retry the same revision, never counted.
                SyncerLog.WatchFailed(_logger, _syncerName, Prefix, _revision, "transient: resuming", error);
                next = State.Watching;
                break;
            default:
                _watchErrors++;
                if (_watchErrors >= _options.MaxWatchErrorsBeforeRelist)
                {
                    SyncerLog.WatchFailed(_logger, _syncerName, Prefix, _revision, $"error {_watchErrors}: relisting", error);
                    next = Relist(RelistReason.WatchErrors);
                }
                else
                {
                    SyncerLog.WatchFailed(_logger, _syncerName, Prefix, _revision, $"error {_watchErrors}: resuming", error);
                    next = State.Watching;
                }

                break;
        }

        return CheckContact(error) ? Relist(RelistReason.ContactLost) : next;
    }

    /// <summary>
    /// Decides a relist. The watch is gone once a relist is decided for a compaction, a reset or too many errors,
    /// so the cache is out of sync from that moment: the loop hears it at once, not when the list succeeds (which
    /// may take long, or fail for a while). A poll is not a resync (the resource stays in sync between polls), and
    /// after a lost contact the resync is announced when the datastore answers again.
    /// </summary>
    private State Relist(RelistReason reason)
    {
        _relistReason = reason;
        if (reason is RelistReason.Compacted or RelistReason.WatchErrors or RelistReason.Reset)
        {
            AnnounceResync();
        }

        return State.Listing;
    }

    private void AnnounceResync()
    {
        if (!_resyncAnnounced)
        {
            _resyncAnnounced = true;
            Seal(new CacheMessage(CacheMessageKind.ResyncStarted, _index));
        }
    }

    /// <summary>Returns every key still known, as deletions, and forgets them. Only once <see cref="RunAsync"/> has returned.</summary>
    public List<Update> DrainAsDeletes()
    {
        var deletes = new List<Update>(_entries.Count);
        foreach (CacheEntry entry in _entries.Values)
        {
            deletes.Add(new Update(new KVPair(entry.Key, null, entry.Revision), UpdateType.Deleted));
        }

        _entries.Clear();
        Volatile.Write(ref _keyCount, 0);
        return deletes;
    }

    private async Task PaceAsync(CancellationToken cancellationToken)
    {
        TimeSpan wait = _lastPassStart < 0 ? TimeSpan.Zero : _options.MinResyncInterval - _time.GetElapsedTime(_lastPassStart);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // With no pause to take (MinResyncInterval 0, or a long pass), still give the thread back once a pass:
            // a backend that fails synchronously must not make this loop spin on the thread that resumed it.
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
        }

        _lastPassStart = _time.GetTimestamp();
    }

    /// <summary>Lists at one revision and reconciles the cache with it. Returns false when the list failed.</summary>
    private async Task<bool> FullSyncAsync(CancellationToken cancellationToken)
    {
        RelistReason reason = _relistReason;
        SyncerLog.Relisting(_logger, _syncerName, Prefix, reason);
        _metrics.Relisted(_syncerName, reason);
        KVPairList list;
        try
        {
            CallProcessorStarting();
            list = await _client.ListAsync(_list, revision: null, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Any failure to list is retried; nothing may end the loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            SyncerLog.ListFailed(_logger, _syncerName, Prefix, ex);
            if (CheckContact(ex))
            {
                _relistReason = RelistReason.ContactLost;
            }

            return false;
        }

        MarkContact();
        SyncerLog.Listed(_logger, _syncerName, list.KVPairs.Count, Prefix, list.Revision);
        if (reason != RelistReason.Poll)
        {
            AnnounceResync();
        }

        // The list is applied batch by batch; a stop between two batches leaves the rest unapplied, and what was
        // applied has been handed over, so the key set and the consumer still agree.
        _epoch++;
        foreach (KVPair kv in list.KVPairs)
        {
            OnUpsert(kv);
            await FlushIfFullAsync(cancellationToken).ConfigureAwait(false);
        }

        // Keys not seen in this list are gone.
        foreach (KeyValuePair<string, CacheEntry> pair in _entries)
        {
            if (pair.Value.Epoch != _epoch)
            {
                _entries.Remove(pair.Key);
                _batch.Add(new Update(new KVPair(pair.Value.Key, null, list.Revision), UpdateType.Deleted));
                await FlushIfFullAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        _revision = list.Revision;
        _lastEventRevision = null;
        _revisionsVoid = false;
        Seal(new CacheMessage(CacheMessageKind.InSync, _index, Revision: list.Revision));
        _resyncAnnounced = false;
        await FlushAsync().ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Watches from the current revision until the stream ends (returns null) or fails (returns the error).
    /// </summary>
    private async Task<(Exception? Error, bool Progressed)> WatchOnceAsync(CancellationToken cancellationToken)
    {
        bool progressed = false;
        IWatch watch;
        try
        {
            watch = await _client.WatchAsync(_list, new WatchOptions(_revision, AllowWatchBookmarks: true), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // Every watch failure is classified by the caller.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return (ex, false);
        }

        MarkContact();
        await using (watch.ConfigureAwait(false))
        {
            ChannelReader<WatchEvent> events = watch.Events;
            try
            {
                while (await events.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    while (events.TryRead(out WatchEvent? watchEvent))
                    {
                        switch (watchEvent.Type)
                        {
                            case WatchEventType.Error:
                                await FlushAsync().ConfigureAwait(false);
                                return (watchEvent.Error ?? new DatastoreException("The watch failed without saying why."), progressed);
                            case WatchEventType.Bookmark:
                                if (watchEvent.Revision is { } bookmark)
                                {
                                    // A bookmark at a new revision shows the watch is making progress, as an event does.
                                    progressed |= !string.Equals(bookmark, _revision, StringComparison.Ordinal);
                                    _revision = bookmark;
                                    _lastEventRevision = null;
                                }

                                break;
                            case WatchEventType.Deleted:
                                if ((watchEvent.New ?? watchEvent.Old) is { } gone)
                                {
                                    OnDelete(gone.Key, watchEvent.Revision ?? gone.Revision);
                                }

                                progressed |= AdvanceTo(watchEvent.Revision);
                                break;
                            default:
                                if (watchEvent.New is { } kv)
                                {
                                    OnUpsert(kv);
                                    progressed |= AdvanceTo(kv.Revision);
                                }

                                break;
                        }

                        MarkContact();
                        if (IsFull)
                        {
                            await FlushAsync().ConfigureAwait(false);
                        }
                    }

                    await FlushAsync().ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (ChannelClosedException ex) when (ex.InnerException is { } inner)
            {
                await FlushAsync().ConfigureAwait(false);
                return (inner, progressed);
            }
#pragma warning disable CA1031 // A watch channel that faults is a watch error like any other.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                await FlushAsync().ConfigureAwait(false);
                return (ex, progressed);
            }
        }

        await FlushAsync().ConfigureAwait(false);
        return (null, progressed);
    }

    /// <summary>Notes an event at <paramref name="revision"/>; returns true when it moved past the last one.</summary>
    private bool AdvanceTo(string? revision)
    {
        if (revision is null || string.Equals(revision, _lastEventRevision, StringComparison.Ordinal))
        {
            return false;
        }

        if (_lastEventRevision is not null)
        {
            _revision = _lastEventRevision;
        }

        _lastEventRevision = revision;
        return true;
    }

    private void OnUpsert(KVPair raw)
    {
        if (raw.Value is InvalidValue invalid)
        {
            AddParseFailure(raw.Key.DefaultPath, invalid.RawValue, invalid.Error);
            OnDelete(raw.Key, raw.Revision);
            return;
        }

        if (_processor is null)
        {
            ApplyUpsert(raw, raw.Revision);
            return;
        }

        IReadOnlyList<KVPair> pairs;
        try
        {
            pairs = _processor.Process(raw);
        }
        catch (ValueParseException ex)
        {
            AddParseFailure(string.IsNullOrEmpty(ex.RawKey) ? raw.Key.DefaultPath : ex.RawKey, ex.RawValue ?? raw.Value?.ToString(), ex);
            OnDelete(raw.Key, raw.Revision);
            return;
        }
#pragma warning disable CA1031 // A processor that throws must not stop the syncer.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            SyncerLog.ProcessorFailed(_logger, _syncerName, raw.Key.DefaultPath, ex);
            return;
        }

        foreach (KVPair pair in pairs)
        {
            if (pair.Value is null)
            {
                ApplyDelete(pair.Key, pair.Revision ?? raw.Revision);
            }
            else
            {
                ApplyUpsert(pair, pair.Revision ?? raw.Revision);
            }
        }
    }

    private void OnDelete(IKey rawKey, string? revision)
    {
        if (_processor is null)
        {
            ApplyDelete(rawKey, revision);
            return;
        }

        IReadOnlyList<KVPair> pairs;
        try
        {
            pairs = _processor.Process(new KVPair(rawKey, null, revision));
        }
#pragma warning disable CA1031 // A processor that throws must not stop the syncer.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            SyncerLog.ProcessorFailed(_logger, _syncerName, rawKey.DefaultPath, ex);
            return;
        }

        foreach (KVPair pair in pairs)
        {
            ApplyDelete(pair.Key, pair.Revision ?? revision);
        }
    }

    private void ApplyUpsert(KVPair pair, string? revision)
    {
        ref CacheEntry entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_entries, pair.Key.DefaultPath, out bool exists);
        if (exists && !_revisionsVoid && string.Equals(entry.Revision, revision, StringComparison.Ordinal))
        {
            entry.Epoch = _epoch;
            return;
        }

        entry = new CacheEntry(pair.Key, revision, _epoch);

        _batch.Add(new Update(ReferenceEquals(pair.Revision, revision) ? pair : pair with { Revision = revision }, exists ? UpdateType.Updated : UpdateType.New));
    }

    private void ApplyDelete(IKey key, string? revision)
    {
        if (_entries.Remove(key.DefaultPath, out CacheEntry entry))
        {
            _batch.Add(new Update(new KVPair(entry.Key, null, revision), UpdateType.Deleted));
        }
    }

    private void AddParseFailure(string rawKey, string? rawValue, Exception error)
    {
        SyncerLog.ParseFailed(_logger, _syncerName, rawKey, error);

        // The failure keeps its place: the updates before it go out before it, the ones after it after.
        Seal(new CacheMessage(CacheMessageKind.ParseFailed, _index, ParseFailure: new ParseFailure(rawKey, rawValue)));
    }

    /// <summary>Closes the open batch (if any) and queues <paramref name="message"/> after it.</summary>
    private void Seal(CacheMessage message)
    {
        SealBatch();
        _sealed.Add(message);
    }

    private void SealBatch()
    {
        if (_batch.Count > 0)
        {
            _sealed.Add(new CacheMessage(CacheMessageKind.Updates, _index, _batch));
            _batch = new List<Update>(Math.Min(_options.MaxUpdatesPerBatch, 256));
        }
    }

    private bool IsFull => _batch.Count >= _options.MaxUpdatesPerBatch || _sealed.Count >= _options.MaxUpdatesPerBatch;

    private async ValueTask FlushIfFullAsync(CancellationToken cancellationToken)
    {
        if (IsFull)
        {
            await FlushAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>
    /// Hands everything applied so far to the syncer loop, in order. The only way messages leave the cache. It is
    /// not cancellable on purpose: a message given up would leave the key set ahead of the consumer. It cannot hang
    /// a stop either, because the loop reads until every cache has returned.
    /// </summary>
    private async ValueTask FlushAsync()
    {
        SealBatch();
        if (_sealed.Count == 0)
        {
            return;
        }

        foreach (CacheMessage message in _sealed)
        {
            await _output.WriteAsync(message, CancellationToken.None).ConfigureAwait(false);
        }

        _sealed.Clear();

        // Counted once handed over, so the figure never runs ahead of what the syncer loop has been given.
        Volatile.Write(ref _keyCount, _entries.Count);
    }

    private void CallProcessorStarting()
    {
        if (_processor is null)
        {
            return;
        }

        try
        {
            _processor.OnSyncerStarting();
        }
#pragma warning disable CA1031 // A processor that throws must not stop the syncer.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            SyncerLog.ProcessorFailed(_logger, _syncerName, Prefix, ex);
        }
    }

    private void MarkContact()
    {
        long now = _time.GetTimestamp();
        _lastContact = now;
        Volatile.Write(ref _lastEventTimestamp, now);
        _contactLostReported = false;
    }

    /// <summary>
    /// After a failure: when nothing has reached the datastore for the retry timeout, reports the loss once and
    /// returns true (the cache must relist once contact is back, and announce that resync again).
    /// </summary>
    private bool CheckContact(Exception error)
    {
        if (_contactLostReported || _time.GetElapsedTime(_lastContact) < _options.WatchRetryTimeout)
        {
            return false;
        }

        _contactLostReported = true;
        SyncerLog.ContactLost(_logger, _syncerName, Prefix, error);
        Seal(new CacheMessage(CacheMessageKind.ContactLost, _index, Error: error));
        _resyncAnnounced = false;
        return true;
    }

    /// <summary>What the cache keeps per key: no value, only what it needs to classify and delete.</summary>
    private record struct CacheEntry(IKey Key, string? Revision, int Epoch);
}
