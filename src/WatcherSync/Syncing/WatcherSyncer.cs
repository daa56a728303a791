using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace WatcherSync;

/// <summary>
/// Lists then watches each resource type and feeds one set of callbacks with batched updates and the sync
/// status. One watcher cache per resource type feeds one loop that makes every callback, so callbacks are never
/// concurrent; updates that pile up while a callback runs come together in the next
/// <see cref="ISyncerCallbacks.OnUpdates"/>. Watch failures are survived without losing or duplicating an update.
/// </summary>
public sealed class WatcherSyncer : ISyncer
{
    private const int ChannelCapacity = 64;

    private readonly ISyncerCallbacks _callbacks;
    private readonly ISyncerParseFailCallbacks? _parseFailCallbacks;
    private readonly ISyncFailCallbacks? _syncFailCallbacks;
    private readonly IListedRevisionCallbacks? _listedCallbacks;
    private readonly WatcherSyncerOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<CacheMessage> _channel;
    private readonly WatcherCache[] _caches;
    private readonly bool[] _cacheInSync;
    private readonly SyncerMetrics _metrics;
    private readonly Lock _lifecycle = new();
    private readonly CancellationTokenSource _stopping = new();
    private List<Update> _pending = [];
    private int _cachesInSync;
    private int _status = (int)SyncStatus.WaitForDatastore;
    private readonly InSyncSignal _inSync = new();
    private SyncerCallbackException? _callbackFailure;
    private Task? _running;
    private Task? _stop;

    /// <summary>Creates a syncer; call <see cref="Start"/> to begin.</summary>
    /// <param name="client">The backend to list and watch.</param>
    /// <param name="resourceTypes">The resource types, each listed and watched by a cache of its own.</param>
    /// <param name="callbacks">Receives the status and the updates. It may also implement
    /// <see cref="ISyncerParseFailCallbacks"/> and <see cref="ISyncFailCallbacks"/>.</param>
    /// <param name="options">Options; null for the defaults.</param>
    /// <exception cref="ArgumentException">No resource types were given, or two of them overlap (equal list options, or
    /// plain prefixes of which one starts with the other).</exception>
    public WatcherSyncer(IBackendClient client, IEnumerable<ResourceType> resourceTypes, ISyncerCallbacks callbacks, WatcherSyncerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(resourceTypes);
        ArgumentNullException.ThrowIfNull(callbacks);
        _options = options ?? new WatcherSyncerOptions();
        _options.Validate();
        ResourceType[] types = [.. resourceTypes];
        if (types.Length == 0)
        {
            throw new ArgumentException("At least one resource type is needed.", nameof(resourceTypes));
        }

        foreach (ResourceType type in types)
        {
            ArgumentNullException.ThrowIfNull(type, nameof(resourceTypes));
        }

        if (ResourceTypeOverlap.Find(types) is { } overlap)
        {
            throw new ArgumentException(overlap, nameof(resourceTypes));
        }

        _callbacks = callbacks;
        _parseFailCallbacks = callbacks as ISyncerParseFailCallbacks;
        _syncFailCallbacks = callbacks as ISyncFailCallbacks;
        _listedCallbacks = callbacks as IListedRevisionCallbacks;
        _logger = (_options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<WatcherSyncer>();

        // Bounded: when the callbacks are slow the caches wait, and the backend's watch buffers (or overflows and
        // is relisted) instead of this process's memory growing.
        _channel = Channel.CreateBounded<CacheMessage>(new BoundedChannelOptions(ChannelCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _metrics = new SyncerMetrics(_options, () => Volatile.Read(ref _status), CountKeys, LastEventAge);
        _caches = new WatcherCache[types.Length];
        _cacheInSync = new bool[types.Length];
        for (int i = 0; i < types.Length; i++)
        {
            _caches[i] = new WatcherCache(client, types[i], i, _options, _channel.Writer, _logger, _metrics);
        }
    }

    /// <inheritdoc />
    public SyncStatus Status => (SyncStatus)Volatile.Read(ref _status);

    /// <inheritdoc />
    /// <remarks>The keys the watcher caches hold.</remarks>
    public long KeyCount => CountKeys();

    /// <inheritdoc />
    /// <exception cref="SyncerCallbackException">A callback has thrown (see <see cref="CallbackFailure"/>).</exception>
    public Task WaitForInSyncAsync(CancellationToken cancellationToken = default) => _inSync.WaitAsync(cancellationToken);

    /// <inheritdoc />
    /// <remarks>The next updates and statuses still reach the callbacks; the failure is logged at Error as well when a
    /// logger is configured.</remarks>
    public SyncerCallbackException? CallbackFailure => Volatile.Read(ref _callbackFailure);

    /// <summary>
    /// Gets how long the syncer has been unable to reach the datastore (the longest run of failed lists and watches
    /// among its resource types, less the time a watch was open), or null while it is in contact. It shows a lost
    /// datastore within seconds, while <see cref="Status"/> stays as it was until <see cref="WatcherSyncerOptions.WatchRetryTimeout"/>
    /// has passed: health checks report Degraded from it. Safe to read from any thread.
    /// </summary>
    public TimeSpan? DatastoreUnreachableFor
    {
        get
        {
            TimeSpan? longest = null;
            foreach (WatcherCache cache in _caches)
            {
                if (cache.OutOfContactFor is { } outOfContact && (longest is null || outOfContact > longest))
                {
                    longest = outOfContact;
                }
            }

            return longest;
        }
    }

    /// <summary>
    /// Gets how long the least recently heard resource type has gone without hearing from the datastore (an event, a
    /// bookmark or progress notification, a list, or a watch opened). Health checks compare it with the backend's
    /// watchdog: past that silence the watch stream is as good as dead. Safe to read from any thread.
    /// </summary>
    public TimeSpan TimeSinceLastEvent
    {
        get
        {
            long oldest = long.MaxValue;
            foreach (WatcherCache cache in _caches)
            {
                oldest = Math.Min(oldest, cache.LastEventTimestamp);
            }

            return _options.TimeProvider.GetElapsedTime(oldest);
        }
    }

    /// <inheritdoc />
    public void Start()
    {
        lock (_lifecycle)
        {
            ObjectDisposedException.ThrowIf(_stop is not null, this);
            if (_running is not null)
            {
                throw new InvalidOperationException("The syncer has already been started.");
            }

            // A syncer is reported by the meter's gauges from its start, not its construction (SyncerMetrics).
            _metrics.Start();
            CancellationToken token = _stopping.Token;
            var caches = new Task[_caches.Length];
            for (int i = 0; i < _caches.Length; i++)
            {
                WatcherCache cache = _caches[i];
                caches[i] = Task.Run(() => cache.RunAsync(token), CancellationToken.None);
            }

            // The loop reads until every cache has returned (each hands over all it applied before it returns), so a
            // cache never waits on a loop that has gone: stopping is ordered caches, then what they handed over,
            // then the deletes.
            Task cachesDone = Task.WhenAll(caches);
            cachesDone.ContinueWith(
                static (_, writer) => ((ChannelWriter<CacheMessage>)writer!).TryComplete(),
                _channel.Writer,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
            Task loop = Task.Run(RunLoopAsync, CancellationToken.None);
            _running = Task.WhenAll(cachesDone, loop);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Stops the caches, delivers every update they had already applied, then reports every key still known as
    /// deleted, so that the consumer ends holding nothing. Every call (and <see cref="DisposeAsync"/>) completes when
    /// that stop is complete. It waits for the callbacks: do not await it from inside one.
    /// </remarks>
    public Task StopAsync()
    {
        lock (_lifecycle)
        {
            return _stop ??= StopCoreAsync(_running);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task StopCoreAsync(Task? running)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (running is not null)
        {
            try
            {
                await running.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Only a defect gets here (the caches survive whatever a backend throws); the stop still completes
                // with the deletes of every key the caches hold.
                SyncerLog.CallbackFailed(_logger, _options.Name, ex);
            }

            // The caches have returned and the loop has delivered all they handed over: the consumer holds exactly
            // the keys the caches hold. It is told of the stop first, then (unless DeleteOnStop is off) every held key
            // is reported deleted.
            if (_callbacks is ISyncerStoppingCallbacks stopping)
            {
                Invoke(static (_, s) => s.OnStopping(), stopping);
            }

            int deleted = 0;
            foreach (WatcherCache cache in _caches)
            {
                List<Update> deletes = cache.DrainAsDeletes();
                if (!_options.DeleteOnStop)
                {
                    continue;
                }

                for (int start = 0; start < deletes.Count; start += _options.MaxUpdatesPerBatch)
                {
                    int count = Math.Min(_options.MaxUpdatesPerBatch, deletes.Count - start);
                    Deliver(deletes.GetRange(start, count));
                }

                deleted += deletes.Count;
            }

            SyncerLog.Stopped(_logger, _options.Name, deleted);
        }

        _inSync.Stopped();
        _metrics.Dispose();
        _stopping.Dispose();
    }

    private async Task RunLoopAsync()
    {
        ChannelReader<CacheMessage> reader = _channel.Reader;
        try
        {
            // Not cancellable: the loop ends when the caches have all returned and their messages are delivered.
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                // Take everything that is already waiting, so that it goes out in as few calls as possible.
                while (reader.TryRead(out CacheMessage message))
                {
                    Handle(message);
                }

                FlushUpdates();
            }
        }
        catch (Exception ex)
        {
            // Only a defect gets here (callbacks are guarded); fail the caches' writes rather than leave them waiting.
            _channel.Writer.TryComplete(ex);
            throw;
        }
    }

    private void Handle(in CacheMessage message)
    {
        switch (message.Kind)
        {
            case CacheMessageKind.Updates:
                AddPending(message.Updates!);
                break;

            case CacheMessageKind.ParseFailed:
                // In its place: the updates that came before it go out first.
                FlushUpdates();
                Invoke(static (s, f) => s._parseFailCallbacks?.ParseFailed(f.RawKey, f.RawValue), message.ParseFailure!.Value);
                break;

            case CacheMessageKind.ResyncStarted:
                SetCacheInSync(message.CacheIndex, false);
                Announce(SyncStatus.ResyncInProgress);
                break;

            case CacheMessageKind.InSync:
                if (_listedCallbacks is not null && message.Revision is not null)
                {
                    FlushUpdates();
                    Invoke(static (s, m) => s._listedCallbacks!.OnListed(m.CacheIndex, m.Revision!), message);
                }

                SetCacheInSync(message.CacheIndex, true);
                if (_cachesInSync == _caches.Length)
                {
                    Announce(SyncStatus.InSync);
                }

                break;

            case CacheMessageKind.ContactLost:
                SetCacheInSync(message.CacheIndex, false);
                Announce(SyncStatus.WaitForDatastore);
                Invoke(static (s, e) => s._syncFailCallbacks?.SyncFailed(e), message.Error!);
                break;
        }
    }

    private void AddPending(List<Update> updates)
    {
        int max = _options.MaxUpdatesPerBatch;
        if (_pending.Count == 0 && updates.Count <= max)
        {
            // Hand the cache's own batch on rather than copying it.
            _pending = updates;
        }
        else
        {
            foreach (Update update in updates)
            {
                _pending.Add(update);
                if (_pending.Count >= max)
                {
                    FlushUpdates();
                }
            }
        }

        if (_pending.Count >= max)
        {
            FlushUpdates();
        }
    }

    private void SetCacheInSync(int index, bool inSync)
    {
        if (_cacheInSync[index] != inSync)
        {
            _cacheInSync[index] = inSync;
            _cachesInSync += inSync ? 1 : -1;
        }
    }

    /// <summary>Flushes pending updates, then sends <paramref name="status"/> unless it is the status already announced.</summary>
    private void Announce(SyncStatus status)
    {
        FlushUpdates();
        if ((int)status == _status)
        {
            return;
        }

        SendStatus(status);
    }

    private void SendStatus(SyncStatus status)
    {
        Volatile.Write(ref _status, (int)status);
        SyncerLog.StatusChanged(_logger, _options.Name, status);
        Invoke(static (s, st) => s._callbacks.OnStatusUpdated(st), status);
        _inSync.Announced(status);
    }

    private void FlushUpdates()
    {
        if (_pending.Count == 0)
        {
            return;
        }

        List<Update> batch = _pending;
        _pending = [];
        Deliver(batch);
    }

    private void Deliver(List<Update> batch)
    {
        // No updates go out while the announced status is WaitForDatastore: they mean a resync is under way.
        if (_status == (int)SyncStatus.WaitForDatastore)
        {
            SendStatus(SyncStatus.ResyncInProgress);
        }

        _metrics.UpdatesDelivered(_options.Name, batch.Count);
        Invoke(static (s, b) => s._callbacks.OnUpdates(b), batch);
    }

    private void Invoke<T>(Action<WatcherSyncer, T> callback, T argument)
    {
        try
        {
            callback(this, argument);
        }
#pragma warning disable CA1031 // A callback that throws is the consumer's bug; it must not stop the syncer.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            SyncerLog.CallbackFailed(_logger, _options.Name, ex);
            var failure = new SyncerCallbackException(_options.Name, ex);
            if (Interlocked.CompareExchange(ref _callbackFailure, failure, null) is null)
            {
                _inSync.CallbackFailed(failure);
            }
        }
    }

    private long CountKeys()
    {
        long total = 0;
        foreach (WatcherCache cache in _caches)
        {
            total += cache.KeyCount;
        }

        return total;
    }

    private double LastEventAge()
    {
        long latest = long.MinValue;
        foreach (WatcherCache cache in _caches)
        {
            latest = Math.Max(latest, cache.LastEventTimestamp);
        }

        return _options.TimeProvider.GetElapsedTime(latest).TotalSeconds;
    }
}
