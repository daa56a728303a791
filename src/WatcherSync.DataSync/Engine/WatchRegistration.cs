using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace WatcherSync.DataSync;

/// <summary>
/// One registration: a syncer over its prefixes (one list and one watch, at one revision), the picture of their
/// values (for previous values and resyncs), and a loop that delivers events one at a time and awaits each Done.
/// </summary>
internal sealed class WatchRegistration : IWatchRegistration
{
    private readonly DataSyncEngine _engine;
    private readonly ChannelWriter<ChangeEvent>? _changes;
    private readonly ChannelWriter<ResyncEvent>? _resyncs;
    private readonly RegistrationInbox _input;
    private readonly CancellationTokenSource _closing = new();
    private readonly Lock _sync = new();
    private readonly List<string> _prefixes;
    private readonly Task _loop;
    // Under _sync: the current syncer's feed (null once closed); the stops of syncers Register replaced, awaited by
    // the close; _closed is set once, by the first close (or a failed start), and _closure is that close.
    private readonly List<Task> _retiring = [];
    private SyncerFeed? _feed;
    private int _generation;
    private bool _closed;
    private Task? _closure;

    public WatchRegistration(DataSyncEngine engine, string name, ChannelWriter<ChangeEvent>? changes, ChannelWriter<ResyncEvent>? resyncs, IEnumerable<string> prefixes)
    {
        _engine = engine;
        Name = name;
        _changes = changes;
        _resyncs = resyncs;
        _prefixes = [.. prefixes];
        _input = new RegistrationInbox(engine.Options.MaxQueuedChanges);
        Writes = new PendingWrites();
        _engine.LoopStarted();
        CancellationToken closing = _closing.Token;
        _loop = Task.Run(() => RunAsync(closing));
        try
        {
            _feed = StartSyncer();
        }
        catch
        {
            // Nothing was registered: the loop ends, and the caller gets the error.
            _closed = true;
            _closing.Cancel();
            _input.Complete();
            throw;
        }
    }

    public string Name { get; }

    /// <summary>Gets how many updates wait in the inbox.</summary>
    internal int InboxCount => _input.Count;

    /// <summary>Gets how many updates reached the inbox.</summary>
    internal long InboxReceived => _input.Received;

    /// <summary>Gets the writes of the engine this registration has still to answer.</summary>
    public PendingWrites Writes { get; }

    /// <summary>Gets whether change events for <paramref name="key"/> go to a subscriber of this registration.</summary>
    public bool DeliversChangesFor(string key)
    {
        if (_changes is null)
        {
            return false;
        }

        lock (_sync)
        {
            return !_closed && Covers(key);
        }
    }

    /// <summary>Gets whether change events for some key under <paramref name="prefix"/> may go to a subscriber of this registration.</summary>
    public bool DeliversChangesUnder(string prefix)
    {
        if (_changes is null)
        {
            return false;
        }

        lock (_sync)
        {
            return !_closed && _prefixes.Exists(p => p.StartsWith(prefix, StringComparison.Ordinal) || prefix.StartsWith(p, StringComparison.Ordinal));
        }
    }

    public void Register(string resyncName, string keyPrefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(keyPrefix);
        if (!string.Equals(resyncName, Name, StringComparison.Ordinal))
        {
            throw new ArgumentException($"No registration is named '{resyncName}' here (this one is '{Name}').", nameof(resyncName));
        }

        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (_prefixes.Contains(keyPrefix, StringComparer.Ordinal))
            {
                throw new ArgumentException($"Prefix '{keyPrefix}' is already watched by '{Name}'.", nameof(keyPrefix));
            }

            _prefixes.Add(keyPrefix);
            SyncerFeed? old = _feed;
            try
            {
                _feed = StartSyncer();
            }
            catch
            {
                // The old syncer goes on over the old prefixes.
                _prefixes.Remove(keyPrefix);
                throw;
            }

            // A new syncer over all the prefixes takes over (and resyncs). The old one's stop is started here, under
            // the lock, so that a close that follows always finds it among those it awaits.
            if (old is not null)
            {
                _retiring.RemoveAll(t => t.IsCompleted);
                _retiring.Add(RetireAsync(old));
            }
        }
    }

    public void Unregister(string keyPrefix)
    {
        string[] remaining;
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_closed, this);
            if (!_prefixes.Remove(keyPrefix))
            {
                throw new ArgumentException($"Prefix '{keyPrefix}' is not watched by '{Name}'.", nameof(keyPrefix));
            }

            remaining = [.. _prefixes];
        }

        // Deliveries are filtered by the prefixes from now on; writers waiting on that prefix are let go.
        Writes.Release(key => key.StartsWith(keyPrefix, StringComparison.Ordinal) && !remaining.Any(p => key.StartsWith(p, StringComparison.Ordinal)));
    }

    public async ValueTask DisposeAsync()
    {
        Task? running;
        TaskCompletionSource? closing = null;
        SyncerFeed? feed = null;
        lock (_sync)
        {
            running = _closure;
            if (running is null)
            {
                _closed = true;
                closing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _closure = closing.Task;
                feed = _feed;
                _feed = null;
            }
        }

        if (running is not null)
        {
            // Closed already, or being closed: done when the first close is.
            await running.ConfigureAwait(false);
            return;
        }

        try
        {
            await CloseAsync(feed).ConfigureAwait(false);
            closing!.SetResult();
        }
        catch (Exception ex)
        {
            closing!.SetException(ex);
            throw;
        }
    }

    private async Task CloseAsync(SyncerFeed? feed)
    {
        await _closing.CancelAsync().ConfigureAwait(false);
        _input.Complete();
        Writes.Release();
        _engine.Remove(this);
        if (feed is not null)
        {
            await feed.StopAsync().ConfigureAwait(false);
        }

        Task[] retiring;
        lock (_sync)
        {
            retiring = [.. _retiring];
            _retiring.Clear();
        }

        // The syncers replaced by Register: none outlives the registration.
        await Task.WhenAll(retiring).ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _closing.Dispose();
        DataSyncLog.Closed(_engine.Logger, Name);
    }

    /// <summary>Stops a replaced syncer; its failure is logged, as a stop of the registration's syncer would not be heard otherwise.</summary>
    private async Task RetireAsync(SyncerFeed old)
    {
        try
        {
            await old.StopAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Logged: the registration goes on with its new syncer.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            DataSyncLog.LoopFailed(_engine.Logger, Name, ex);
        }
    }

    private bool Covers(string key)
    {
        foreach (string prefix in _prefixes)
        {
            if (key.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Starts a syncer of a new generation over the current prefixes (under the lock, or in the constructor).</summary>
    private SyncerFeed StartSyncer()
    {
        int generation = ++_generation;
        var feed = new SyncerFeed(this, generation);
        ResourceType[] resources = [new ResourceType(new MultiPrefixListOptions(_prefixes))];
        ISyncer syncer = _engine.Options.SyncerOptions is { } syncerOptions
            ? new WatcherSyncer(_engine.Client, resources, feed, syncerOptions)
            : _engine.Client.CreateSyncer(resources, feed);
        feed.Syncer = syncer;
        try
        {
            syncer.Start();
        }
        catch
        {
            // Whatever it may have sent is not delivered.
            feed.Detach();
            throw;
        }

        DataSyncLog.Registered(_engine.Logger, Name, string.Join(", ", _prefixes));
        return feed;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await DeliverAllAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _engine.LoopEnded();
        }
    }

    private async Task DeliverAllAsync(CancellationToken cancellationToken)
    {
        var picture = new Dictionary<string, KVPair>(StringComparer.Ordinal);
        int generation = 0;
        bool inSync = false;

        // The revision the pending resync's state was listed at; until the syncer says, the highest revision seen in
        // the generation, which the state has certainly reached.
        long? listed = null;
        long highest = 0;
        try
        {
            await foreach (InboxInput input in _input.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (input.Generation < generation)
                {
                    continue;
                }

                if (input.Generation > generation)
                {
                    // A new syncer (new prefixes): it sends the whole state again.
                    generation = input.Generation;
                    picture.Clear();
                    inSync = false;
                    listed = null;
                    highest = 0;
                }

                if (input.Listed is { } listedRevision)
                {
                    // A poll lists without a resync: its updates are delivered as changes.
                    if (!inSync)
                    {
                        listed = listedRevision;
                    }

                    continue;
                }

                if (input.Updates is { } updates)
                {
                    List<IChangeValue>? changes = inSync ? [] : null;
                    foreach (Update update in updates)
                    {
                        string key = update.KVPair.Key.DefaultPath;
                        highest = Math.Max(highest, ParseRevision(update.KVPair.Revision));
                        picture.TryGetValue(key, out KVPair? previous);
                        if (update.UpdateType == UpdateType.Deleted)
                        {
                            picture.Remove(key);
                            changes?.Add(new ChangeValue(_engine.Codec, update.KVPair, ChangeType.Delete, previous));
                        }
                        else
                        {
                            picture[key] = update.KVPair;
                            changes?.Add(new ChangeValue(_engine.Codec, update.KVPair, ChangeType.Put, previous));
                        }
                    }

                    if (changes is not null)
                    {
                        await DeliverChangesAsync(changes, cancellationToken).ConfigureAwait(false);
                    }
                }
                else if (input.Status == SyncStatus.InSync)
                {
                    if (!inSync)
                    {
                        inSync = true;
                        await DeliverResyncAsync(picture, Math.Max(listed ?? 0, highest), cancellationToken).ConfigureAwait(false);
                        listed = null;
                    }
                }
                else
                {
                    // A relist or a lost datastore: what follows is folded into the next resync.
                    inSync = false;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Closed.
        }
#pragma warning disable CA1031 // The loop must not die silently; it is logged and the registration stops delivering.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            DataSyncLog.LoopFailed(_engine.Logger, Name, ex);
        }
    }

    private async Task DeliverChangesAsync(List<IChangeValue> all, CancellationToken cancellationToken)
    {
        List<IChangeValue> changes;
        lock (_sync)
        {
            changes = all.FindAll(c => Covers(c.Key));
        }

        if (changes.Count == 0)
        {
            return;
        }

        Exception? error = null;
        if (_changes is not null)
        {
            var changeEvent = new ChangeEvent(Name, changes);
            error = await DeliverAsync(_changes, changeEvent, changeEvent.Acknowledged, changes.Select(c => c.Key), cancellationToken).ConfigureAwait(false);
        }

        Writes.Acknowledged(changes.Select(c => (c.Key, ParseRevision(c.Revision))).ToList(), error);
    }

    private async Task DeliverResyncAsync(Dictionary<string, KVPair> picture, long revision, CancellationToken cancellationToken)
    {
        Dictionary<string, IReadOnlyList<IKeyValue>> values;
        lock (_sync)
        {
            values = new Dictionary<string, IReadOnlyList<IKeyValue>>(StringComparer.Ordinal);
            foreach (string prefix in _prefixes)
            {
                values[prefix] = picture
                    .Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal))
                    .OrderBy(p => p.Key, StringComparer.Ordinal)
                    .Select(p => (IKeyValue)new KeyValue(_engine.Codec, p.Value))
                    .ToList();
            }
        }

        DataSyncLog.Resync(_engine.Logger, Name, picture.Count);
        Exception? error = null;
        if (_resyncs is not null)
        {
            var resync = new ResyncEvent(Name, values);
            error = await DeliverAsync(_resyncs, resync, resync.Acknowledged, [], cancellationToken).ConfigureAwait(false);
        }

        // Writes folded into the resync (at or before its revision) are answered by it, deletes included.
        Writes.Resynced(revision, picture.ToDictionary(p => p.Key, p => ParseRevision(p.Value.Revision), StringComparer.Ordinal), error);
    }

    /// <summary>Hands the event over (at most the delivery timeout) and awaits its Done (at most the acknowledgement timeout).</summary>
    private async Task<Exception?> DeliverAsync<T>(ChannelWriter<T> writer, T item, Task<Exception?> acknowledged, IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        DataSyncOptions options = _engine.Options;
        DataSyncAcknowledgementException? failure = null;
        try
        {
            // On the engine's clock, as every other timeout of the engine.
            using var timer = new CancellationTokenSource(options.DeliveryTimeout, options.TimeProvider);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
            try
            {
                await writer.WriteAsync(item, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                failure = new DataSyncAcknowledgementException(Name, $"The subscriber of '{Name}' did not take the event within {options.DeliveryTimeout.TotalSeconds:0.###} s; it was dropped.", timedOut: true);
            }

            if (failure is null)
            {
                Exception? error = await acknowledged.WaitAsync(options.AcknowledgementTimeout, options.TimeProvider, cancellationToken).ConfigureAwait(false);
                if (error is not null)
                {
                    failure = new DataSyncAcknowledgementException(Name, $"The subscriber of '{Name}' failed: {error.Message}", timedOut: false, error);
                }
            }
        }
        catch (TimeoutException)
        {
            failure = new DataSyncAcknowledgementException(Name, $"The subscriber of '{Name}' did not acknowledge the event within {options.AcknowledgementTimeout.TotalSeconds:0.###} s.", timedOut: true);
        }
        catch (ChannelClosedException ex)
        {
            failure = new DataSyncAcknowledgementException(Name, $"The channel of '{Name}' is closed; the event was dropped.", timedOut: false, ex);
        }

        if (failure is not null)
        {
            _engine.ReportFailure(failure, [.. keys]);
        }

        return failure;
    }

    /// <summary>Parses a numeric revision; 0 (before every write) for one that is not.</summary>
    private static long ParseRevision(string? revision) =>
        long.TryParse(revision, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long value) ? value : 0;

    /// <summary>The callbacks of one syncer generation; it stops feeding the loop once replaced or closed.</summary>
    private sealed class SyncerFeed(WatchRegistration owner, int generation) : ISyncerCallbacks, IListedRevisionCallbacks
    {
        private volatile bool _stopped;

        public ISyncer? Syncer { get; set; }

        public void OnStatusUpdated(SyncStatus status)
        {
            if (!_stopped)
            {
                owner._input.TryWrite(new InboxInput(generation, status, null));
            }
        }

        public void OnUpdates(IReadOnlyList<Update> updates)
        {
            if (!_stopped)
            {
                owner._input.TryWrite(new InboxInput(generation, default, updates));
            }
        }

        public void OnListed(int resourceIndex, string revision)
        {
            if (!_stopped)
            {
                owner._input.TryWrite(new InboxInput(generation, default, null, ParseRevision(revision)));
            }
        }

        /// <summary>Stops feeding the loop.</summary>
        public void Detach() => _stopped = true;

        public async Task StopAsync()
        {
            // Its stop-time deletions are not changes of the datastore: they are not delivered.
            _stopped = true;
            if (Syncer is { } syncer)
            {
                await syncer.StopAsync().ConfigureAwait(false);
            }
        }
    }
}
