namespace WatcherSync.Testing;

/// <summary>
/// Syncer callbacks that record every call in order and keep the picture a consumer would build, noting any
/// impossible transition (New for a key held, Updated or Deleted for a key not held) and any concurrent call.
/// </summary>
public sealed class RecordingCallbacks : ISyncerCallbacks, ISyncerParseFailCallbacks, ISyncFailCallbacks
{
    private readonly Lock _sync = new();
    private readonly List<object> _calls = [];
    private readonly Dictionary<string, KVPair> _picture = new(StringComparer.Ordinal);
    private readonly List<string> _violations = [];
    private int _inCall;
    private int _updatesEntered;

    /// <summary>Gets or sets a gate that OnUpdates waits on before recording (null: no wait).</summary>
    public ManualResetEventSlim? UpdatesGate { get; set; }

    /// <summary>Gets a snapshot of every call: a <see cref="SyncStatus"/>, an <see cref="Update"/> array,
    /// a <see cref="ParseFailedCall"/> or a <see cref="SyncFailedCall"/>.</summary>
    public IReadOnlyList<object> Calls
    {
        get
        {
            lock (_sync)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>Gets how many OnUpdates calls have begun (including one waiting on the gate).</summary>
    public int UpdatesEntered => Volatile.Read(ref _updatesEntered);

    public IReadOnlyList<SyncStatus> Statuses => Calls.OfType<SyncStatus>().ToList();

    public IReadOnlyList<Update[]> UpdateBatches => Calls.OfType<Update[]>().ToList();

    public IReadOnlyList<Update> AllUpdates => UpdateBatches.SelectMany(b => b).ToList();

    public SyncStatus? LastStatus => Statuses.Count == 0 ? null : Statuses[^1];

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

    /// <summary>Gets a copy of the picture: key path → value.</summary>
    public Dictionary<string, object?> Picture
    {
        get
        {
            lock (_sync)
            {
                return _picture.ToDictionary(p => p.Key, p => p.Value.Value, StringComparer.Ordinal);
            }
        }
    }

    public void OnStatusUpdated(SyncStatus status)
    {
        Enter();
        try
        {
            lock (_sync)
            {
                if (_calls.OfType<SyncStatus>().LastOrDefault() is var last && _calls.OfType<SyncStatus>().Any() && last == status)
                {
                    _violations.Add($"status {status} sent twice in a row");
                }

                _calls.Add(status);
            }
        }
        finally
        {
            Exit();
        }
    }

    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        Enter();
        try
        {
            Interlocked.Increment(ref _updatesEntered);
            UpdatesGate?.Wait();
            lock (_sync)
            {
                SyncStatus? last = _calls.OfType<SyncStatus>().Select(s => (SyncStatus?)s).LastOrDefault();
                if (last is null or SyncStatus.WaitForDatastore)
                {
                    _violations.Add($"OnUpdates while the status was {last?.ToString() ?? "not yet announced"}");
                }

                _calls.Add(updates.ToArray());
                foreach (Update update in updates)
                {
                    string key = update.KVPair.Key.DefaultPath;
                    bool held = _picture.ContainsKey(key);
                    switch (update.UpdateType)
                    {
                        case UpdateType.New when held:
                            _violations.Add($"New for held key {key}");
                            break;
                        case UpdateType.Updated or UpdateType.Deleted when !held:
                            _violations.Add($"{update.UpdateType} for key {key} not held");
                            break;
                    }

                    if (update.UpdateType == UpdateType.Deleted)
                    {
                        _picture.Remove(key);
                    }
                    else
                    {
                        _picture[key] = update.KVPair;
                    }
                }
            }
        }
        finally
        {
            Exit();
        }
    }

    public void ParseFailed(string rawKey, string? rawValue)
    {
        Enter();
        try
        {
            lock (_sync)
            {
                _calls.Add(new ParseFailedCall(rawKey, rawValue));
            }
        }
        finally
        {
            Exit();
        }
    }

    public void SyncFailed(Exception error)
    {
        Enter();
        try
        {
            lock (_sync)
            {
                _calls.Add(new SyncFailedCall(error));
            }
        }
        finally
        {
            Exit();
        }
    }

    private void Enter()
    {
        if (Interlocked.Increment(ref _inCall) != 1)
        {
            lock (_sync)
            {
                _violations.Add("callbacks made concurrently");
            }
        }
    }

    private void Exit() => Interlocked.Decrement(ref _inCall);

    public sealed record ParseFailedCall(string RawKey, string? RawValue);

    public sealed record SyncFailedCall(Exception Error);
}
