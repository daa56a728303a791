using System.Threading.Channels;

namespace WatcherSync.Testing;

/// <summary>
/// Wraps a real backend and, while <see cref="Faults"/> is on, makes its lists and watches fail at random (seeded):
/// lists that fail, watches refused, and running watches that end early or end with a transient, unknown or
/// compaction error. Writes pass straight through. While <see cref="Lagging"/> is on, running watches hold their events
/// back (an upstream that lags) and deliver them, in order, once it is off.
/// </summary>
public sealed class FaultyBackend(IBackendClient inner, int seed, double faultRate = 0.05) : IBackendClient
{
    private readonly Random _random = new(seed);
    private readonly Lock _sync = new();
    private readonly List<FaultyWatch> _open = [];
    private volatile IBackendClient _inner = inner;
    private int _injected;
    private int _listCalls;
    private volatile bool _down;

    // Completed while not lagging; replaced by an incomplete one when lagging starts. Watch pumps wait on it before each event.
    private volatile TaskCompletionSource _flowing = Completed();

    // Counts the cuts (Down set, ResetTo), under _sync: a watch call that spans one is cut when it returns.
    private int _cuts;

    // Under _sync: how many times the datastore was replaced (ResetTo), and per list prefix the count when its last
    // successful list began. A watch that resumes from a revision for a prefix not listed since the last reset resumes
    // from a revision of the store replaced: it ends with the DatastoreResetException a backend reports when the store's
    // revision went backwards, as one whose watches were cut meanwhile (Down) would otherwise never hear of the reset.
    private int _resets;
    private readonly Dictionary<string, int> _listedAt = new(StringComparer.Ordinal);

    /// <summary>Gets the probability of a fault per watch event (twice that per list or watch call).</summary>
    public double FaultRate { get; } = faultRate;

    /// <summary>Gets or sets whether faults are injected.</summary>
    public bool Faults { get; set; } = true;

    /// <summary>
    /// Gets or sets whether the datastore is cut off: while down, lists and new watches fail as unreachable, and
    /// going down ends every open watch with a transient error. Writes made through the inner client still land.
    /// </summary>
    public bool Down
    {
        get => _down;
        set
        {
            if (value)
            {
                CutOpenWatches(() => _down = true, new DatastoreUnavailableException("injected: connection cut"));
            }
            else
            {
                _down = false;
            }
        }
    }

    /// <summary>
    /// Gets or sets whether the upstream lags: while on, open watches deliver no events (they keep them, in order, for
    /// when it is off); lists and cuts are not held back.
    /// </summary>
    public bool Lagging
    {
        get => !_flowing.Task.IsCompleted;
        set
        {
            lock (_sync)
            {
                if (value && _flowing.Task.IsCompleted)
                {
                    _flowing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                else if (!value)
                {
                    _flowing.TrySetResult();
                }
            }
        }
    }

    /// <summary>Gets how many faults have been injected.</summary>
    public int Injected => Volatile.Read(ref _injected);

    /// <summary>Gets how many lists were asked for (failed ones included).</summary>
    public int ListCalls => Volatile.Read(ref _listCalls);

    public Task<KVPair> CreateAsync(KVPair kv, CancellationToken cancellationToken = default) => _inner.CreateAsync(kv, cancellationToken);

    public Task<KVPair> UpdateAsync(KVPair kv, CancellationToken cancellationToken = default) => _inner.UpdateAsync(kv, cancellationToken);

    public Task<KVPair> ApplyAsync(KVPair kv, CancellationToken cancellationToken = default) => _inner.ApplyAsync(kv, cancellationToken);

    public Task<KVPair> DeleteAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => _inner.DeleteAsync(key, revision, cancellationToken);

    public Task<KVPair> GetAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => _inner.GetAsync(key, revision, cancellationToken);

    public async Task<KVPairList> ListAsync(IListOptions list, string? revision = null, CancellationToken cancellationToken = default)
    {
        Interlocked.Increment(ref _listCalls);
        if (_down || Roll(FaultRate * 2))
        {
            throw new DatastoreUnavailableException("injected: list failed");
        }

        int resets = Volatile.Read(ref _resets);
        KVPairList listed = await _inner.ListAsync(list, revision, cancellationToken).ConfigureAwait(false);
        lock (_sync)
        {
            _listedAt[list.DefaultPathRoot] = resets;
        }

        return listed;
    }

    public async Task<IWatch> WatchAsync(IListOptions list, WatchOptions options, CancellationToken cancellationToken = default)
    {
        int cutsBefore = Volatile.Read(ref _cuts);
        if (_down)
        {
            throw new DatastoreUnavailableException("injected: the datastore is down");
        }

        if (Roll(FaultRate * 2))
        {
            throw NextError();
        }

        IWatch watch = await _inner.WatchAsync(list, options, cancellationToken).ConfigureAwait(false);
        var faulty = new FaultyWatch(this, watch);
        Exception? cut = null;
        lock (_sync)
        {
            // A watch made while the datastore went down is cut like the others, even when it is back up by the time
            // the call returns: its connection was cut meanwhile (it would otherwise hear the writes of the outage).
            if (_down || _cuts != cutsBefore)
            {
                cut = new DatastoreUnavailableException("injected: connection cut");
            }
            else if (options.Revision is not null && _resets > 0 && _listedAt.GetValueOrDefault(list.DefaultPathRoot, -1) != _resets)
            {
                cut = new DatastoreResetException("injected: the watch resumes from a revision of the store replaced since");
            }

            _open.Add(faulty);
        }

        if (cut is not null)
        {
            faulty.Cut(cut);
        }

        return faulty;
    }

    /// <summary>
    /// Replaces the datastore with <paramref name="restored"/>, as a restore from backup does (revisions go back, and
    /// recur with other values), and ends every open watch with the DatastoreResetException a backend reports for it,
    /// so that a syncer lists the restored store and compares none of the revisions it knew.
    /// </summary>
    public void ResetTo(IBackendClient restored) =>
        CutOpenWatches(
            () =>
            {
                _inner = restored;
                _resets++;
            },
            new DatastoreResetException("injected: the datastore was restored from a backup"));

    /// <summary>Makes <paramref name="change"/> under the lock (so that no watch opens unseen meanwhile), then ends every open watch with <paramref name="error"/>.</summary>
    private void CutOpenWatches(Action change, Exception error)
    {
        FaultyWatch[] open;
        lock (_sync)
        {
            change();
            _cuts++;
            open = [.. _open];
        }

        foreach (FaultyWatch watch in open)
        {
            watch.Cut(error);
        }
    }

    public ISyncer CreateSyncer(IEnumerable<ResourceType> resourceTypes, ISyncerCallbacks callbacks) => new WatcherSyncer(this, resourceTypes, callbacks);

    public Task EnsureInitializedAsync(CancellationToken cancellationToken = default) => _inner.EnsureInitializedAsync(cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static TaskCompletionSource Completed()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.TrySetResult();
        return done;
    }

    private bool Roll(double probability)
    {
        if (!Faults)
        {
            return false;
        }

        lock (_sync)
        {
            if (_random.NextDouble() >= probability)
            {
                return false;
            }
        }

        Interlocked.Increment(ref _injected);
        return true;
    }

    private Exception NextError()
    {
        int kind;
        lock (_sync)
        {
            kind = _random.Next(4);
        }

        return kind switch
        {
            0 => new DatastoreUnavailableException("injected: connection refused"),
            1 => new DatastoreException("injected: unknown watch error"),
            2 => new RevisionExpiredException("injected: compacted"),
            _ => new InvalidOperationException("injected: odd failure"),
        };
    }

    private sealed class FaultyWatch : IWatch
    {
        private readonly Channel<WatchEvent> _events = Channel.CreateBounded<WatchEvent>(64);
        private readonly CancellationTokenSource _stop = new();
        private readonly FaultyBackend _owner;
        private readonly IWatch _inner;
        private readonly Task _pump;

        public FaultyWatch(FaultyBackend owner, IWatch inner)
        {
            _owner = owner;
            _inner = inner;
            _pump = Task.Run(() => PumpAsync(owner));
        }

        /// <summary>Ends the watch at once with <paramref name="error"/> (a cut connection, a compaction).</summary>
        public void Cut(Exception error)
        {
            // The error goes in before the pump stops, which would otherwise end the channel without it.
            _events.Writer.TryWrite(WatchEvent.FromError(error));
            _events.Writer.TryComplete();
            try
            {
                _stop.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Disposed between the owner's snapshot of the open watches and this cut: it has ended already.
            }

            _events.Writer.TryComplete();
        }

        public ChannelReader<WatchEvent> Events => _events.Reader;

        public async ValueTask DisposeAsync()
        {
            lock (_owner._sync)
            {
                _owner._open.Remove(this);
            }

            await _stop.CancelAsync().ConfigureAwait(false);
            await _pump.ConfigureAwait(false);
            await _inner.DisposeAsync().ConfigureAwait(false);
            _stop.Dispose();
        }

        private async Task PumpAsync(FaultyBackend owner)
        {
            try
            {
                await foreach (WatchEvent e in _inner.Events.ReadAllAsync(_stop.Token).ConfigureAwait(false))
                {
                    if (owner.Roll(owner.FaultRate))
                    {
                        if (owner.Roll(0.5))
                        {
                            // End early, silently: the consumer must resume from the last event it saw.
                            _events.Writer.TryComplete();
                            return;
                        }

                        await _events.Writer.WriteAsync(WatchEvent.FromError(owner.NextError()), _stop.Token).ConfigureAwait(false);
                        _events.Writer.TryComplete();
                        return;
                    }

                    await owner._flowing.Task.WaitAsync(_stop.Token).ConfigureAwait(false);
                    await _events.Writer.WriteAsync(e, _stop.Token).ConfigureAwait(false);
                    if (e.Type == WatchEventType.Error)
                    {
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
            {
                // Disposed, or cut.
            }

            _events.Writer.TryComplete();
        }
    }
}
