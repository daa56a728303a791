using System.Globalization;

namespace WatcherSync.Tests.Dedupe;

/// <summary>
/// A sink that records every call as text, keeps the picture the calls build, and notes every call that contradicts
/// that picture (New for a held key, Updated or Deleted for an absent one, the same status twice in a row). It can be
/// held at a gate the test opens, made slow, or made to throw.
/// </summary>
internal sealed class RecordingSink : ISyncerCallbacks
{
    private readonly Lock _sync = new();
    private readonly List<string> _calls = [];
    private readonly List<string> _violations = [];
    private readonly Dictionary<string, object?> _picture = new(StringComparer.Ordinal);
    private readonly HashSet<string> _heldKeys = new(StringComparer.Ordinal);
    private readonly bool _keepCalls;
    private readonly bool _trackKeys;
    private SyncStatus? _status;
    private int _callCount;
    private long _updates;
    private int _deleted;

    /// <param name="keepCalls">Whether to record each call as text.</param>
    /// <param name="trackKeys">Whether to keep the picture and check each update against it (costs memory per key).</param>
    public RecordingSink(bool keepCalls = true, bool trackKeys = true)
    {
        _keepCalls = keepCalls;
        _trackKeys = trackKeys;
    }

    /// <summary>Gets or sets a gate every call waits on before doing anything; null for none.</summary>
    public ManualResetEventSlim? Gate { get; set; }

    /// <summary>Gets or sets how long each call spins, to make the sink slow without sleeping.</summary>
    public int SpinIterations { get; set; }

    /// <summary>Gets or sets an exception to throw from the next call (then cleared).</summary>
    public Exception? ThrowNext { get; set; }

    /// <summary>Gets whether a call has started (set before the gate is waited on).</summary>
    public ManualResetEventSlim Entered { get; } = new(false);

    public IReadOnlyList<string> Calls
    {
        get
        {
            lock (_sync)
            {
                return [.. _calls];
            }
        }
    }

    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_sync)
            {
                return [.. _violations];
            }
        }
    }

    public int CallCount => Volatile.Read(ref _callCount);

    public long UpdatesReceived => Interlocked.Read(ref _updates);

    public int DeletedReceived => Volatile.Read(ref _deleted);

    public SyncStatus? Status
    {
        get
        {
            lock (_sync)
            {
                return _status;
            }
        }
    }

    public Dictionary<string, object?> Picture()
    {
        lock (_sync)
        {
            return new Dictionary<string, object?>(_picture, StringComparer.Ordinal);
        }
    }

    public static string Describe(Update u) => u.UpdateType == UpdateType.Deleted
        ? $"Deleted {u.KVPair.Key.DefaultPath}"
        : string.Create(CultureInfo.InvariantCulture, $"{u.UpdateType} {u.KVPair.Key.DefaultPath}={u.KVPair.Value}");

    public void OnStatusUpdated(SyncStatus status)
    {
        Enter();
        lock (_sync)
        {
            if (_status == status)
            {
                _violations.Add($"status {status} twice in a row");
            }

            _status = status;
            if (_keepCalls)
            {
                _calls.Add($"Status {status}");
            }
        }
    }

    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        Enter();
        lock (_sync)
        {
            if (_keepCalls)
            {
                _calls.Add("[" + string.Join(", ", updates.Select(Describe)) + "]");
            }

            foreach (Update u in updates)
            {
                if (u.UpdateType == UpdateType.Deleted)
                {
                    _deleted++;
                }

                if (!_trackKeys)
                {
                    continue;
                }

                string key = u.KVPair.Key.DefaultPath;
                bool held = _heldKeys.Contains(key);
                switch (u.UpdateType)
                {
                    case UpdateType.New when held:
                    case UpdateType.Updated when !held:
                    case UpdateType.Deleted when !held:
                    case UpdateType.Unknown:
                        _violations.Add($"{Describe(u)} while the sink {(held ? "holds" : "lacks")} the key");
                        break;
                }

                if (u.UpdateType == UpdateType.Deleted)
                {
                    _heldKeys.Remove(key);
                    _picture.Remove(key);
                }
                else
                {
                    _heldKeys.Add(key);
                    _picture[key] = u.KVPair.Value;
                }
            }

            _updates += updates.Count;
        }
    }

    private void Enter()
    {
        Interlocked.Increment(ref _callCount);
        Entered.Set();
        Gate?.Wait();
        if (SpinIterations > 0)
        {
            Thread.SpinWait(SpinIterations);
        }

        if (ThrowNext is { } ex)
        {
            ThrowNext = null;
            throw ex;
        }
    }
}
