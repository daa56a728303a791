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
    private readonly WatcherSyncerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SyncerMetrics _metrics;
    private readonly string _syncerName;
    private readonly CacheOutbox _outbox;
    private readonly CacheKeySet _keys;
    private readonly RawPairApplier _applier;
    private readonly ExponentialBackoff _backoff;

    // The cache's own state, all of it written by its one loop (RunAsync) only; _keyCount is also read by others.
    // The state machine (State below) is the local variable of RunAsync; these fields say where it stands.
    //
    // _canWatch: false once the backend said this resource cannot be watched; then the state is only Listing or
    //   Polling, never Watching. It never becomes true again.
    // _relistReason: why the next list runs; read only in Listing. ContactLost only after _contact has expired.
    // _resyncAnnounced: the loop has been told "ResyncStarted" and not yet "InSync" by this cache. True only from
    //   a relist decision (compaction, reset, watch errors) or a list's start until that list's InSync; set false
    //   again by a lost contact (the loop then counts the cache out of sync by the ContactLost message).
    // _watchErrors: errors in a row while the watch is stuck at one revision, 0 ≤ _watchErrors <
    //   MaxWatchErrorsBeforeRelist in Watching; reset by a successful list and by a watch that progressed.
    // _retryDelay: the wait before the next pass after a failure, drawn from _backoff; zero after a success, so that
    //   nothing waits after one (the first watch after a list opens at once). Set by the state that failed, consumed
    //   (and zeroed) at the start of the next pass.
    // The small types hold the rest, each with its own invariants: _resume (where the next watch starts), _contact
    // (in contact / failing since / expired), _keys (keys and revisions, with the list epoch), _outbox (what is
    // applied but not yet handed over), _applier (the processor, bad writes reported once, and whether revisions are
    // void after a reset).
    // _listFailures, _watchFailures: the runs of failed lists and of transient watch failures, so that a datastore
    // that stays unreachable is logged once a minute (with the count of the rest), not at every retry.
    // _failedListReason: the reason of the last list that failed while _listFailures is in a run, null otherwise; a
    //   retry for the same reason is not logged as a new full sync, a new reason is.
    private readonly ContactClock _contact;
    private readonly RepeatedWarning _listFailures;
    private readonly RepeatedWarning _watchFailures;
    private readonly ResumePoint _resume = new();
    private TimeSpan _retryDelay;
    private bool _canWatch = true;
    private RelistReason _relistReason = RelistReason.Initial;
    private RelistReason? _failedListReason;
    private bool _resyncAnnounced;
    private int _watchErrors;
    private int _keyCount;

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
        _options = options;
        _time = options.TimeProvider;
        _logger = logger;
        _metrics = metrics;
        _syncerName = options.Name;
        _contact = new ContactClock(_time, options.WatchRetryTimeout);
        _listFailures = new RepeatedWarning(_time, RepeatedWarning.DefaultWindow);
        _watchFailures = new RepeatedWarning(_time, RepeatedWarning.DefaultWindow);
        _backoff = new ExponentialBackoff(options.Backoff, _time);
        _outbox = new CacheOutbox(index, options.MaxUpdatesPerBatch, output);
        _keys = new CacheKeySet(_outbox);
        _applier = new RawPairApplier(resourceType.UpdateProcessor, options.Transform, _keys, _outbox, logger, _syncerName, resourceType.ListInterface.DefaultPathRoot);
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

    /// <summary>Gets the timestamp at which the datastore was last heard from: an event, a bookmark, a list or a watch opened (safe to read from any thread).</summary>
    public long LastEventTimestamp => _contact.LastHeardTimestamp;

    /// <summary>Gets how long this cache has been out of contact with the datastore, or null in contact (any thread).</summary>
    public TimeSpan? OutOfContactFor => _contact.OutOfContactFor;

    private string Prefix => _list.DefaultPathRoot;

    /// <summary>
    /// Runs list-then-watch until cancelled. When it returns, everything the cache applied has been handed to the
    /// syncer loop (which must keep reading until every cache has returned).
    /// </summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // The retry timeout counts from the start, not from construction.
        _contact.Heard();
        State state = State.Listing;
        try
        {
            while (true)
            {
                // Hand over what the last state left (a relist announcement among it) before waiting out a retry.
                await FlushAsync().ConfigureAwait(false);
                await WaitBeforeRetryAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    state = state switch
                    {
                        State.Listing => await ListAsync(cancellationToken).ConfigureAwait(false),
                        State.Watching => await WatchAsync(cancellationToken).ConfigureAwait(false),
                        _ => await PollAsync(cancellationToken).ConfigureAwait(false),
                    };
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    // Whatever a backend or a processor throws where nothing expects it, the cache survives: the key
                    // set still matches what was handed over, and a relist puts the rest right.
                    SyncerLog.CacheFailed(_logger, _syncerName, Prefix, ex);
                    state = Relist(RelistReason.WatchErrors);
                    Retry(_options.MinResyncInterval);
                }
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

    /// <summary>The Listing state: a full sync; on failure, list again after a backoff above the list retry interval.</summary>
    private async Task<State> ListAsync(CancellationToken cancellationToken)
    {
        if (!await FullSyncAsync(cancellationToken).ConfigureAwait(false))
        {
            Retry(_options.ListRetryInterval);
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
            // Errors count only while the watch is stuck at one revision. A watch that delivered proved the datastore
            // healthy: however it ended, the next reconnect is the first of a new run (a server that ends every stream
            // after a while must not push the reconnects to the cap).
            _watchErrors = 0;
            _backoff.Reset();
            EndRun(_watchFailures, "watch");
        }

        if (error is null)
        {
            // The stream ended without an error: resume from the last revision seen (a reconnect like any other).
            SyncerLog.WatchEnded(_logger, _syncerName, Prefix, _resume.Revision);
            Retry(_options.MinResyncInterval);
            return State.Watching;
        }

        State next;
        switch (error)
        {
            case DatastoreResetException:
                // Revisions from before the reset may recur with other values: compare none of them.
                SyncerLog.WatchFailed(_logger, _syncerName, Prefix, _resume.Revision, "datastore reset: relisting every key", error);
                _applier.RevisionsVoid = true;
                next = Relist(RelistReason.Reset);
                break;
            case RevisionExpiredException:
                SyncerLog.WatchFailed(_logger, _syncerName, Prefix, _resume.Revision, "compacted: relisting", error);
                next = Relist(RelistReason.Compacted);
                break;
            case OperationNotSupportedException:
                SyncerLog.Polling(_logger, _syncerName, Prefix);
                _canWatch = false;
                next = State.Polling;
                break;
            case DatastoreException { IsTransient: true }:
                // Connection refused, no leader, timeouts: retry the same revision, never counted; logged once a minute.
                if (_watchFailures.Occurred(out int watchRepeats))
                {
                    LogRepeat(watchRepeats, "watch", error, () => SyncerLog.WatchFailed(_logger, _syncerName, Prefix, _resume.Revision, "transient: resuming", error));
                }

                next = State.Watching;
                break;
            default:
                _watchErrors++;
                if (_watchErrors >= _options.MaxWatchErrorsBeforeRelist)
                {
                    SyncerLog.WatchFailed(_logger, _syncerName, Prefix, _resume.Revision, $"error {_watchErrors}: relisting", error);
                    next = Relist(RelistReason.WatchErrors);
                }
                else
                {
                    SyncerLog.WatchFailed(_logger, _syncerName, Prefix, _resume.Revision, $"error {_watchErrors}: resuming", error);
                    next = State.Watching;
                }

                break;
        }

        if (next != State.Polling)
        {
            // A watch reconnect or a relist after an error: spaced by the backoff, so that a fleet cut off together
            // does not come back in step. (Polling waits its own interval.)
            Retry(_options.MinResyncInterval);
        }

        return CheckContact(error) ? Relist(RelistReason.ContactLost) : next;
    }

    /// <summary>Logs a failure that <see cref="RepeatedWarning"/> let through: the first of a run as itself, a later one as a summary of the repeats.</summary>
    private void LogRepeat(int repeats, string operation, Exception error, Action logFirst)
    {
        if (repeats == 0)
        {
            logFirst();
        }
        else
        {
            SyncerLog.StillFailing(_logger, _syncerName, operation, Prefix, repeats, RepeatedWarning.DefaultWindow, error);
        }
    }

    /// <summary>A success ends a run of failures: the repeats not yet logged are told once.</summary>
    private void EndRun(RepeatedWarning failures, string operation)
    {
        int repeats = failures.End();
        if (repeats > 0)
        {
            SyncerLog.Recovered(_logger, _syncerName, operation, Prefix, repeats);
        }
    }

    /// <summary>A failure (or a watch's end): the next pass waits a backoff delay above <paramref name="floor"/>.</summary>
    private void Retry(TimeSpan floor)
    {
        _retryDelay = _backoff.Next(floor);
        SyncerLog.Retrying(_logger, _syncerName, Prefix, _retryDelay, _backoff.Attempts);
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
            _outbox.Seal(CacheMessageKind.ResyncStarted);
        }
    }

    /// <summary>Returns every key still known, as deletions, and forgets them. Only once <see cref="RunAsync"/> has returned.</summary>
    public List<Update> DrainAsDeletes()
    {
        List<Update> deletes = _keys.DrainAsDeletes();
        Volatile.Write(ref _keyCount, 0);
        return deletes;
    }

    /// <summary>Waits the backoff delay a failure drew (nothing after a success).</summary>
    private async Task WaitBeforeRetryAsync(CancellationToken cancellationToken)
    {
        TimeSpan wait = _retryDelay;
        _retryDelay = TimeSpan.Zero;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // With no pause to take (a success, or a zero backoff), still give the thread back once a pass: a backend
            // that fails synchronously must not make this loop spin on the thread that resumed it.
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Lists at one revision and reconciles the cache with it. Returns false when the list failed.</summary>
    private async Task<bool> FullSyncAsync(CancellationToken cancellationToken)
    {
        RelistReason reason = _relistReason;
        if (reason != _failedListReason)
        {
            // A retry of a list that keeps failing is told by the failure's own (rate-limited) warning.
            SyncerLog.Relisting(_logger, _syncerName, Prefix, reason);
        }

        _metrics.Relisted(_syncerName, reason);
        KVPairList list;
        try
        {
            _applier.Starting();
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
            _failedListReason = reason;
            if (_listFailures.Occurred(out int repeats))
            {
                LogRepeat(repeats, "list", ex, () => SyncerLog.ListFailed(_logger, _syncerName, Prefix, ex));
            }

            if (CheckContact(ex))
            {
                _relistReason = RelistReason.ContactLost;
            }

            return false;
        }

        _contact.Heard();
        _failedListReason = null;
        EndRun(_listFailures, "list");
        SyncerLog.Listed(_logger, _syncerName, list.KVPairs.Count, Prefix, list.Revision);
        if (reason != RelistReason.Poll)
        {
            AnnounceResync();
        }

        // The list is applied batch by batch; a stop between two batches leaves the rest unapplied, and what was
        // applied has been handed over, so the key set and the consumer still agree.
        IReadOnlyList<KVPair> listed = list.KVPairs;
        _keys.BeginList(listed.Count);
        for (int i = 0; i < listed.Count; i++)
        {
            _applier.Upsert(listed[i]);
            if (_outbox.IsFull)
            {
                await FlushIfFullAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        // Keys not seen in this list are gone.
        foreach (Update gone in _keys.RemoveUnlisted(list.Revision))
        {
            _outbox.Add(gone);
            await FlushIfFullAsync(cancellationToken).ConfigureAwait(false);
        }

        _applier.ListFinished(_keys.Epoch);
        _resume.Listed(list.Revision);
        _applier.RevisionsVoid = false;
        _outbox.Seal(CacheMessageKind.InSync, revision: list.Revision);
        _resyncAnnounced = false;
        await FlushAsync().ConfigureAwait(false);

        // A list into an empty set left its keys unhashed, so that InSync came without that cost; the watch that
        // follows needs the index, so it is built now, after InSync and before the first event is read.
        _keys.Index();
        return true;
    }

    /// <summary>
    /// Watches from the current revision until the stream ends (returns null) or fails (returns the error).
    /// </summary>
    private async Task<(Exception? Error, bool Progressed)> WatchOnceAsync(CancellationToken cancellationToken)
    {
        IWatch watch;
        try
        {
            watch = await _client.WatchAsync(_list, new WatchOptions(_resume.Revision, AllowWatchBookmarks: true) { PreviousValues = false }, cancellationToken).ConfigureAwait(false);
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

        _contact.Opened();
        (Exception? Error, bool Progressed) outcome;
        try
        {
            outcome = await ReadWatchAsync(watch.Events, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await DisposeWatchAsync(watch, reported: true).ConfigureAwait(false);
            throw;
        }

        // The watch's open time was contact; a failure classified next counts from here (ContactClock).
        _contact.Closed();

        // A backend whose dispose throws has a watch that failed: the cache survives it like any other watch error.
        Exception? disposeError = await DisposeWatchAsync(watch, reported: outcome.Error is not null).ConfigureAwait(false);
        return (outcome.Error ?? disposeError, outcome.Progressed);
    }

    /// <summary>Disposes a watch; returns what its dispose threw (logged here when <paramref name="reported"/>: the watch's end was already classified).</summary>
    private async ValueTask<Exception?> DisposeWatchAsync(IWatch watch, bool reported)
    {
        try
        {
            await watch.DisposeAsync().ConfigureAwait(false);
            return null;
        }
#pragma warning disable CA1031 // Whatever a backend throws from a watch's dispose is a watch failure, never the cache's end.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (reported)
            {
                SyncerLog.WatchFailed(_logger, _syncerName, Prefix, _resume.Revision, "disposing the watch failed", ex);
            }

            return ex;
        }
    }

    /// <summary>Reads one watch until its stream ends (returns a null error) or fails (returns the error).</summary>
    private async Task<(Exception? Error, bool Progressed)> ReadWatchAsync(ChannelReader<WatchEvent> events, CancellationToken cancellationToken)
    {
        bool progressed = false;
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
                                progressed |= _resume.Bookmark(bookmark);
                            }

                            break;
                        case WatchEventType.Deleted:
                            if ((watchEvent.New ?? watchEvent.Old) is { } gone)
                            {
                                _applier.Deleted(gone.Key, watchEvent.Revision ?? gone.Revision);
                            }

                            progressed |= _resume.Event(watchEvent.Revision);
                            break;
                        default:
                            if (watchEvent.New is { } kv)
                            {
                                _applier.Upsert(kv);
                                progressed |= _resume.Event(kv.Revision);
                            }

                            break;
                    }

                    _contact.Heard();
                    if (_watchFailures.InRun)
                    {
                        // The watch answers: the failures that came before it are over (an idle store sends only
                        // bookmarks at one revision, which are no progress, but are an answer).
                        EndRun(_watchFailures, "watch");
                    }

                    if (_outbox.IsFull)
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

        await FlushAsync().ConfigureAwait(false);
        return (null, progressed);
    }

    private async ValueTask FlushIfFullAsync(CancellationToken cancellationToken)
    {
        if (_outbox.IsFull)
        {
            await FlushAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Hands everything applied so far to the syncer loop, in order (<see cref="CacheOutbox.FlushAsync"/>).</summary>
    private async ValueTask FlushAsync()
    {
        if (await _outbox.FlushAsync().ConfigureAwait(false))
        {
            // Counted once handed over, so the figure never runs ahead of what the syncer loop has been given.
            Volatile.Write(ref _keyCount, _keys.Count);
        }
    }

    /// <summary>
    /// After a failure: when the failures have lasted the retry timeout since the first of them (time in an open,
    /// healthy watch is contact), reports the loss once and returns true (the cache must relist once contact is back,
    /// and announce that resync again).
    /// </summary>
    private bool CheckContact(Exception error)
    {
        if (!_contact.Failed())
        {
            return false;
        }

        SyncerLog.ContactLost(_logger, _syncerName, Prefix, error);
        _outbox.Seal(CacheMessageKind.ContactLost, error: error);
        _resyncAnnounced = false;
        return true;
    }
}
