namespace WatcherSync.Etcd.Watching;

/// <summary>
/// Whether one watch stream is alive, judged for the stream as a whole and never per watch: etcd 3.4 sends progress
/// notifications to at most ~128 watchers of a stream per tick and drops the rest, so one quiet watch hearing nothing
/// says nothing. Any response on the stream, or the answer to a progress request the stream sends when it has been
/// quiet for half the silence limit (etcd answers it at once, outside the notifications it drops), proves every watch on
/// it alive. The stream is dead when it has heard nothing for the silence limit while its member does not answer either,
/// and in any case when it has heard nothing for twice the silence limit: a member that answers its status proves the
/// member alive (a loaded machine may delay a progress answer), not this stream, so it buys one more silence limit and
/// no more (a stalled stream on a healthy member would otherwise never end, and its watches would miss every event for
/// ever); while creates wait, that bound is the create timeout when it is longer. Waiting creates are dead when neither the stream nor its member answered for the create timeout (a busy
/// member answers thousands of creates slowly, but it answers its status).
/// </summary>
internal sealed class StreamLiveness
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _silence;
    private readonly TimeSpan _createTimeout;
    private readonly Lock _sync = new();

    // Invariants (under _sync): _streamHeard and _memberHeard are timestamps on _time, never in the future;
    // _pendingCreates >= 0; while _pendingCreates > 0, _waitingSince is when the count last rose from zero.
    private long _streamHeard;
    private long _memberHeard;
    private long _waitingSince;
    private int _pendingCreates;

    /// <param name="time">The client's clock.</param>
    /// <param name="silence">How long the stream may hear nothing at all; infinite for no limit.</param>
    /// <param name="createTimeout">How long creates may wait with nothing heard on the stream; infinite for no limit.</param>
    public StreamLiveness(TimeProvider time, TimeSpan silence, TimeSpan createTimeout)
    {
        _time = time;
        _silence = silence;
        _createTimeout = createTimeout;
        _streamHeard = _memberHeard = time.GetTimestamp();
    }

    /// <summary>Gets how long a quiet stream waits before it asks etcd for progress (half the silence limit).</summary>
    public TimeSpan ProbeAfter => _silence == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : _silence / 2;

    /// <summary>Gets the number of creates sent and not answered yet.</summary>
    public int PendingCreates
    {
        get
        {
            lock (_sync)
            {
                return _pendingCreates;
            }
        }
    }

    /// <summary>A response (of any watch, or for the whole stream) arrived.</summary>
    public void StreamHeard()
    {
        long now = _time.GetTimestamp();
        lock (_sync)
        {
            _streamHeard = now;
        }
    }

    /// <summary>The stream's member answered a status request and has a leader.</summary>
    public void MemberAnswered()
    {
        long now = _time.GetTimestamp();
        lock (_sync)
        {
            _memberHeard = now;
        }
    }

    /// <summary>A create request went out.</summary>
    public void CreateSent()
    {
        long now = _time.GetTimestamp();
        lock (_sync)
        {
            if (_pendingCreates++ == 0)
            {
                _waitingSince = now;
            }
        }
    }

    /// <summary>etcd answered a create (created or refused).</summary>
    public void CreateAnswered()
    {
        lock (_sync)
        {
            if (_pendingCreates > 0)
            {
                _pendingCreates--;
            }
        }
    }

    /// <summary>Whether the stream has been quiet long enough to ask etcd for progress.</summary>
    public bool ShouldProbe()
    {
        TimeSpan probeAfter = ProbeAfter;
        if (probeAfter == Timeout.InfiniteTimeSpan)
        {
            return false;
        }

        lock (_sync)
        {
            return _time.GetElapsedTime(_streamHeard) >= probeAfter;
        }
    }

    /// <summary>Returns why the stream is dead, or null while it is alive.</summary>
    public string? Verdict()
    {
        lock (_sync)
        {
            if (_pendingCreates > 0 && _createTimeout != Timeout.InfiniteTimeSpan
                && _time.GetElapsedTime(Math.Max(Math.Max(_streamHeard, _memberHeard), _waitingSince)) > _createTimeout)
            {
                return $"answered no watch create within {_createTimeout.TotalSeconds:0.###} s";
            }

            if (_silence != Timeout.InfiniteTimeSpan && _time.GetElapsedTime(Math.Max(_streamHeard, _memberHeard)) > _silence)
            {
                return $"was silent for more than {_silence.TotalSeconds:0.###} s";
            }

            // While creates wait, the stream is busy with them: a member that answers thousands of creates on a loaded
            // machine may say nothing on the stream for longer than twice the silence limit, so the limit of a silent
            // stream whose member answers is then the create timeout, if that is longer (still bounded).
            TimeSpan limit = _silence * 2;
            if (_pendingCreates > 0 && _createTimeout != Timeout.InfiniteTimeSpan && _createTimeout > limit)
            {
                limit = _createTimeout;
            }

            if (_silence != Timeout.InfiniteTimeSpan && _time.GetElapsedTime(_streamHeard) > limit)
            {
                return $"was silent for more than {limit.TotalSeconds:0.###} s, though its member answers";
            }

            return null;
        }
    }
}
