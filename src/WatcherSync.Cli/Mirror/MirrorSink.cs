using System.Diagnostics;
using System.Globalization;
using WatcherSync.Relay;

namespace WatcherSync.Cli.Mirror;

/// <summary>
/// The mirror's syncer callbacks: keeps the number of keys (for the count and the table) and the latest changes,
/// prints updates as JSON lines in <see cref="MirrorMode.JsonLines"/> mode (one write per batch), and reports status
/// changes on standard error. Called only from the syncer's single callback loop; the table reads it from another
/// thread under the lock. With relays, it also keeps the set of relays that refused the subscription since the last
/// InSync: once every one has, <see cref="Refused"/> completes (retrying cannot help; the command ends).
/// </summary>
internal sealed class MirrorSink : ISyncerCallbacks, ISyncFailCallbacks, IDisposable
{
    public const int RecentCapacity = 20;

    private readonly CliConsole _console;
    private readonly MirrorMode _mode;
    private readonly Stopwatch _clock;
    private readonly UpdateJson _json = new();
    private readonly Lock _sync = new();
    private readonly Queue<(TimeSpan At, Update Update)> _recent = new();
    private readonly TaskCompletionSource<int> _inSync = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _outputClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<RelayRefusedException> _refused = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HashSet<Uri> _refusedBy = [];
    private readonly int _relays;
    private SyncStatus _status = SyncStatus.WaitForDatastore;
    private long _updates;
    private int _keys;
    private bool _closed;

    /// <param name="console">Where to print.</param>
    /// <param name="mode">What to print.</param>
    /// <param name="clock">The run's clock, for the times printed.</param>
    /// <param name="relays">How many relays the syncer may use (0 for etcd).</param>
    public MirrorSink(CliConsole console, MirrorMode mode, Stopwatch clock, int relays = 0)
    {
        _relays = relays;
        _console = console;
        _mode = mode;
        _clock = clock;
    }

    /// <summary>Gets a task that completes with the number of keys the first time the picture is complete.</summary>
    public Task<int> FirstInSync => _inSync.Task;

    /// <summary>Gets a task that completes when standard output can no longer be written (a closed pipe).</summary>
    public Task OutputClosed => _outputClosed.Task;

    /// <summary>Gets a task that completes with the last refusal once every relay has refused the subscription.</summary>
    public Task<RelayRefusedException> Refused => _refused.Task;

    public SyncStatus Status
    {
        get
        {
            lock (_sync)
            {
                return _status;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _keys;
            }
        }
    }

    public long Updates => Interlocked.Read(ref _updates);

    /// <summary>The latest changes, newest first.</summary>
    public IReadOnlyList<(TimeSpan At, Update Update)> Recent()
    {
        lock (_sync)
        {
            return [.. _recent.Reverse()];
        }
    }

    /// <summary>Ignores everything from now on: the deletes a stopping syncer reports are not changes in etcd.</summary>
    public void Close()
    {
        lock (_sync)
        {
            _closed = true;
        }
    }

    public void OnStatusUpdated(SyncStatus status)
    {
        int count;
        lock (_sync)
        {
            if (_closed)
            {
                return;
            }

            _status = status;
            count = _keys;
            if (status == SyncStatus.InSync)
            {
                _refusedBy.Clear();
            }
        }

        // The table shows the status itself, and --count prints nothing but the number.
        if (_mode == MirrorMode.JsonLines)
        {
            _console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"status: {status} ({count} keys, {_clock.Elapsed.TotalSeconds:0.000} s)"));
        }

        if (status == SyncStatus.InSync)
        {
            _inSync.TrySetResult(count);
        }
    }

    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        lock (_sync)
        {
            if (_closed)
            {
                return;
            }

            // A syncer says New only for a key the consumer lacks and Deleted only for one it holds, so the types
            // count the keys without a set of them.
            foreach (Update update in updates)
            {
                _keys += update.UpdateType switch
                {
                    UpdateType.New => 1,
                    UpdateType.Deleted => -1,
                    _ => 0,
                };
            }

            // Only the newest few are shown.
            TimeSpan now = _clock.Elapsed;
            for (int i = Math.Max(0, updates.Count - RecentCapacity); i < updates.Count; i++)
            {
                _recent.Enqueue((now, updates[i]));
                if (_recent.Count > RecentCapacity)
                {
                    _recent.Dequeue();
                }
            }
        }

        Interlocked.Add(ref _updates, updates.Count);
        if (_mode == MirrorMode.JsonLines && !_outputClosed.Task.IsCompleted)
        {
            try
            {
                _console.Out.Write(_json.Format(updates));
                _console.Out.Flush();
            }
            catch (IOException)
            {
                // The reader went away (for example `| head`): stop quietly, as Unix tools do.
                _outputClosed.TrySetResult();
            }
        }
    }

    public void SyncFailed(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error is RelayRefusedException refusal && _relays > 0)
        {
            bool everyRelay;
            lock (_sync)
            {
                _refusedBy.Add(refusal.Endpoint);
                everyRelay = _refusedBy.Count >= _relays;
            }

            if (everyRelay)
            {
                _refused.TrySetResult(refusal);
                return;
            }
        }

        _console.Error.WriteLine("watchersync: still trying: " + CliErrors.Describe(error));
    }

    public void Dispose() => _json.Dispose();
}
