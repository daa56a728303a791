namespace WatcherSync;

/// <summary>
/// Rate-limits one warning that repeats while a failure lasts (a list of an unreachable datastore fails at every
/// retry): the first of a run is logged; the repeats within <see cref="Window"/> of the last one logged are only
/// counted; the first repeat after that is logged with the count it stands for ("N more in the last minute"), and
/// the end of the run (a success) hands back the count not yet reported. Driven by the syncer's
/// <see cref="TimeProvider"/>, so tests move it with a fake clock. Not thread-safe: one watcher cache's loop uses it.
/// </summary>
internal sealed class RepeatedWarning(TimeProvider time, TimeSpan window)
{
    /// <summary>How often a repeated warning is logged while its failure lasts.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromMinutes(1);

    // State: _loggedAt is null outside a run (no occurrence since the last End), otherwise the timestamp of the
    // occurrence last logged; _unlogged counts the occurrences since then that were not logged, and is 0 outside a run.
    private long? _loggedAt;
    private int _unlogged;

    /// <summary>Gets whether a run is under way: an occurrence since the last <see cref="End"/>.</summary>
    public bool InRun => _loggedAt is not null;

    /// <summary>Gets how long after one warning logged the repeats are only counted.</summary>
    public TimeSpan Window => window;

    /// <summary>
    /// Records one occurrence. Returns whether to log it; when it returns true, <paramref name="notLogged"/> is the
    /// number of occurrences before it, since the last one logged, that were not logged (0 for the first of a run).
    /// </summary>
    public bool Occurred(out int notLogged)
    {
        long now = time.GetTimestamp();
        if (_loggedAt is { } at && time.GetElapsedTime(at, now) < window)
        {
            _unlogged++;
            notLogged = 0;
            return false;
        }

        notLogged = _unlogged;
        _unlogged = 0;
        _loggedAt = now;
        return true;
    }

    /// <summary>Ends a run (the failure is over): returns the occurrences not logged since the last one logged, and starts afresh.</summary>
    public int End()
    {
        int notLogged = _unlogged;
        _unlogged = 0;
        _loggedAt = null;
        return notLogged;
    }
}
