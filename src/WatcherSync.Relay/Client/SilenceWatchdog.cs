namespace WatcherSync.Relay;

/// <summary>
/// Ends a connection whose relay has gone silent: when nothing has been heard for longer than the limit, it calls
/// <c>silent</c> once, with how long the silence lasted. Checked four times per initial limit.
/// </summary>
/// <remarks>
/// Invariants: <c>_lastHeard</c> is the timestamp of the last message heard (or of the start); <c>_limitTicks</c> only
/// grows (a relay that pings less often than the client's SilenceTimeout gets three of its ping intervals);
/// <c>_fired</c> goes from 0 to 1 once. Written by the connection, read by the timer's thread.
/// </remarks>
internal sealed class SilenceWatchdog : IDisposable
{
    private readonly TimeProvider _time;
    private readonly Action<TimeSpan> _silent;
    private readonly ITimer _timer;
    private long _lastHeard;
    private long _limitTicks;
    private int _fired;

    public SilenceWatchdog(TimeProvider time, TimeSpan limit, Action<TimeSpan> silent)
    {
        _time = time;
        _silent = silent;
        _lastHeard = time.GetTimestamp();
        _limitTicks = limit.Ticks;
        _timer = time.CreateTimer(static state => ((SilenceWatchdog)state!).Check(), this, limit / 4, limit / 4);
    }

    /// <summary>Something came from the relay.</summary>
    public void Heard() => Volatile.Write(ref _lastHeard, _time.GetTimestamp());

    /// <summary>Allows at least <paramref name="limit"/> of silence from now on (never less than before).</summary>
    public void AllowAtLeast(TimeSpan limit)
    {
        if (limit.Ticks > Volatile.Read(ref _limitTicks))
        {
            Volatile.Write(ref _limitTicks, limit.Ticks);
        }
    }

    public void Dispose() => _timer.Dispose();

    private void Check()
    {
        TimeSpan silence = _time.GetElapsedTime(Volatile.Read(ref _lastHeard));
        if (silence.Ticks > Volatile.Read(ref _limitTicks) && Interlocked.Exchange(ref _fired, 1) == 0)
        {
            _silent(silence);
        }
    }
}
