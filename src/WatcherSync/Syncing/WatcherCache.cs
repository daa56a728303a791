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
    private List<Update> _batch = [];
    private List<ParseFailure>? _parseFailures;
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

    public ResourceType ResourceType => _resourceType;

    /// <summary>Gets the number of keys held as of the last batch handed to the syncer loop (safe to read from any thread).</summary>
    public int KeyCount => Volatile.Read(ref _keyCount);

    /// <summary>Gets the timestamp of the last event or list (safe to read from any thread).</summary>
    public long LastEventTimestamp => Volatile.Read(ref _lastEventTimestamp);

    private string Prefix => _list.DefaultPathRoot;

    /// <summary>Runs list-then-watch until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        bool needList = true;
        bool polling = false;
        bool everListed = false;
        int watchErrors = 0;
        RelistReason reason = RelistReason.Initial;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await PaceAsync(cancellationToken).ConfigureAwait(false);

                if (needList)
                {
                    if (!await FullSyncAsync(reason, announce: !polling || !everListed, cancellationToken).ConfigureAwait(false))
                    {
                        await Task.Delay(_options.ListRetryInterval, _time, cancellationToken).ConfigureAwait(false);
                        continue;
                    }

                    everListed = true;
                    needList = false;
                    watchErrors = 0;
                }

                if (polling)
                {
                    await Task.Delay(_options.WatchPollInterval, _time, cancellationToken).ConfigureAwait(false);
                    needList = true;
                    reason = RelistReason.Poll;
                    continue;
                }

                (Exception? error, bool progressed) = await WatchOnceAsync(cancellationToken).ConfigureAwait(false);
                _metrics.WatchRestarted(_syncerName);
                if (progressed)
                {
                    // Errors count only while the watch is stuck at one revision.
                    watchErrors = 0;
                }

                if (error is null)
                {
                    // The stream ended without an error: resume from the last revision seen.
                    SyncerLog.WatchEnded(_logger, _syncerName, Prefix, _revision);
                    continue;
                }

                switch (error)
                {
                    case DatastoreResetException:
                        // Revisions from before the reset may recur with other values: compare none of them.
                        SyncerLog.WatchFailed(_logger, _syncerName, Prefix, _revision, "datastore reset: relisting every key", error);
                        needList = true;
                        reason = RelistReason.Reset;
                        _revisionsVoid = true;
                        break;
                    case RevisionExpiredException:
                        SyncerLog.WatchFailed(_logger, _syncerName, Prefix, _revision, "compacted: relisting", error);
                        needList = true;
                        reason = RelistReason.Compacted;
                        break;
                    case OperationNotSupportedException:
                        SyncerLog.Polling(_logger, _syncerName, Prefix);
                        polling = true;
                        break;
                    case DatastoreException { IsTransient: true }:
                        // Connection refused, no leader, timeouts: retry the same revision, never counted.
                        SyncerLog.WatchFailed(_logger, _syncerName, Prefix, _revision, "transient: resuming", error);
                        break;
                    default:
                        watchErrors++;
                        if (watchErrors >= _options.MaxWatchErrorsBeforeRelist)
                        {
                            SyncerLog.WatchFailed(_logger, _syncerName, Prefix, _revision, $"error {watchErrors}: relisting", error);
                            needList = true;
                            reason = RelistReason.WatchErrors;
                        }
                        else
                        {
                            SyncerLog.WatchFailed(_logger, _syncerName, Prefix, _revision, $"error {watchErrors}: resuming", error);
                        }

                        break;
                }

                if (await CheckContactAsync(error, cancellationToken).ConfigureAwait(false))
                {
                    needList = true;
                    reason = RelistReason.ContactLost;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>Returns every key still known, as deletions, and forgets them.</summary>
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
        if (_lastPassStart >= 0)
        {
            TimeSpan since = _time.GetElapsedTime(_lastPassStart);
            if (since < _options.MinResyncInterval)
            {
                await Task.Delay(_options.MinResyncInterval - since, _time, cancellationToken).ConfigureAwait(false);
            }
        }

        _lastPassStart = _time.GetTimestamp();
    }

    /// <summary>Lists at one revision and reconciles the cache with it. Returns false when the list failed.</summary>
    private async Task<bool> FullSyncAsync(RelistReason reason, bool announce, CancellationToken cancellationToken)
    {
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
            await CheckContactAsync(ex, cancellationToken).ConfigureAwait(false);
            return false;
        }

        MarkContact();
        SyncerLog.Listed(_logger, _syncerName, list.KVPairs.Count, Prefix, list.Revision);
        if (announce)
        {
            await _output.WriteAsync(new CacheMessage(CacheMessageKind.ResyncStarted, _index), cancellationToken).ConfigureAwait(false);
        }

        // From here the list is applied whole, whatever happens to the token, so that the cache stays consistent.
        _epoch++;
        foreach (KVPair kv in list.KVPairs)
        {
            OnUpsert(kv);
            if (_batch.Count >= _options.MaxUpdatesPerBatch)
            {
                await FlushAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }

        // Keys not seen in this list are gone.
        foreach (KeyValuePair<string, CacheEntry> pair in _entries)
        {
            if (pair.Value.Epoch != _epoch)
            {
                _entries.Remove(pair.Key);
                _batch.Add(new Update(new KVPair(pair.Value.Key, null, list.Revision), UpdateType.Deleted));
                if (_batch.Count >= _options.MaxUpdatesPerBatch)
                {
                    await FlushAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
        }

        _revision = list.Revision;
        _lastEventRevision = null;
        _revisionsVoid = false;
        await FlushAsync(CancellationToken.None).ConfigureAwait(false);
        await _output.WriteAsync(new CacheMessage(CacheMessageKind.InSync, _index), cancellationToken).ConfigureAwait(false);
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
                                await FlushAsync(cancellationToken).ConfigureAwait(false);
                                return (watchEvent.Error ?? new DatastoreException("The watch failed without saying why."), progressed);
                            case WatchEventType.Bookmark:
                                if (watchEvent.Revision is { } bookmark)
                                {
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
                        if (_batch.Count >= _options.MaxUpdatesPerBatch)
                        {
                            await FlushAsync(cancellationToken).ConfigureAwait(false);
                        }
                    }

                    await FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (ChannelClosedException ex) when (ex.InnerException is { } inner)
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
                return (inner, progressed);
            }
#pragma warning disable CA1031 // A watch channel that faults is a watch error like any other.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
                return (ex, progressed);
            }
        }

        await FlushAsync(cancellationToken).ConfigureAwait(false);
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
        (_parseFailures ??= []).Add(new ParseFailure(rawKey, rawValue));
    }

    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_batch.Count == 0 && _parseFailures is null)
        {
            return;
        }

        var message = new CacheMessage(CacheMessageKind.Updates, _index, _batch, _parseFailures);
        _batch = new List<Update>(Math.Min(_options.MaxUpdatesPerBatch, 256));
        _parseFailures = null;
        await _output.WriteAsync(message, cancellationToken).ConfigureAwait(false);

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
    /// returns true (the cache must relist once contact is back).
    /// </summary>
    private async ValueTask<bool> CheckContactAsync(Exception error, CancellationToken cancellationToken)
    {
        if (_contactLostReported || _time.GetElapsedTime(_lastContact) < _options.WatchRetryTimeout)
        {
            return false;
        }

        _contactLostReported = true;
        SyncerLog.ContactLost(_logger, _syncerName, Prefix, error);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await _output.WriteAsync(new CacheMessage(CacheMessageKind.ContactLost, _index, Error: error), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>What the cache keeps per key: no value, only what it needs to classify and delete.</summary>
    private record struct CacheEntry(IKey Key, string? Revision, int Epoch);
}
