namespace WatcherSync;

/// <summary>
/// How long a watcher cache has been out of contact with the datastore, and when it last heard from it.
/// </summary>
/// <remarks>
/// <para>Contact is a state, not an event. Time spent in an open watch is contact however quiet the watch is; time
/// between watches (a watch failing to open, a list failing, the wait before a retry) counts toward the loss. A run of
/// failures therefore starts at the first failure after the datastore was last heard from (a list, an event, a
/// bookmark), never at the last event, so one transient error after a quiet spell is just that. Opening a watch does
/// not end a run: a watch that opens and fails at once, hearing nothing, adds no contact, so a datastore (or a proxy)
/// that accepts every watch and drops it at once expires like one that refuses them. On a failure after a watch
/// that heard nothing, the start of the run moves forward by the time that watch was open.</para>
/// <para>State, written by the cache's one loop and read from any thread for <see cref="LastHeardTimestamp"/>:
/// <list type="bullet">
/// <item><c>_failingSince == NotFailing</c>: in contact (<see cref="ContactState.InContact"/>); <c>_expired</c> is false.</item>
/// <item><c>_failingSince != NotFailing</c>, <c>_expired</c> false: failing, the run's time out of a watch is under
/// the retry timeout (<see cref="ContactState.Failing"/>).</item>
/// <item><c>_failingSince != NotFailing</c>, <c>_expired</c> true: the run's time out of a watch reached the retry
/// timeout, and the loss has been reported once (<see cref="ContactState.Expired"/>).</item>
/// <item><c>_openedAt != NotOpen</c>: a watch is open since then (set by <see cref="Opened"/>, cleared when it
/// closes or fails). While a run is on, <c>_failingSince &lt;= _openedAt</c> (a watch opens after the failure that
/// started the run), so moving the run's start forward by the open time never passes the present.</item>
/// </list>
/// <c>_expired</c> is never true while in contact. <c>_lastHeard</c> only moves forward.</para>
/// </remarks>
internal sealed class ContactClock
{
    private const long NotFailing = -1;
    private const long NotOpen = -1;

    private readonly TimeProvider _time;
    private readonly TimeSpan _retryTimeout;
    private long _lastHeard;
    private long _failingSince = NotFailing;
    private long _openedAt = NotOpen;
    private bool _expired;

    public ContactClock(TimeProvider time, TimeSpan retryTimeout)
    {
        _time = time;
        _retryTimeout = retryTimeout;
        _lastHeard = time.GetTimestamp();
    }

    /// <summary>Gets where the clock is.</summary>
    public ContactState State => _failingSince == NotFailing ? ContactState.InContact : _expired ? ContactState.Expired : ContactState.Failing;

    /// <summary>Gets the timestamp at which the datastore was last heard from (safe to read from any thread).</summary>
    public long LastHeardTimestamp => Volatile.Read(ref _lastHeard);

    /// <summary>Gets how long the datastore has gone unheard.</summary>
    public TimeSpan SinceLastHeard => _time.GetElapsedTime(LastHeardTimestamp);

    /// <summary>
    /// Gets how long the current run of failures has lasted, or null in contact (a watch is open, or the datastore
    /// was heard from since the last failure). Read from any thread:
    /// the two fields are read without the loop's order, so a reading racing a change may be off by that change, never
    /// more (each field is a whole 64-bit word).
    /// </summary>
    public TimeSpan? OutOfContactFor
    {
        get
        {
            long since = Volatile.Read(ref _failingSince);
            if (since == NotFailing)
            {
                return null;
            }

            // A watch open now is contact (however quiet it is, as for the retry timeout): not unreachable.
            if (Volatile.Read(ref _openedAt) != NotOpen)
            {
                return null;
            }

            return _time.GetElapsedTime(since);
        }
    }

    /// <summary>
    /// A watch was opened: the time until it closes or fails is contact. It neither ends a run of failures nor counts
    /// as hearing from the datastore.
    /// </summary>
    public void Opened()
    {
        _openedAt = _time.GetTimestamp();
        AssertInvariants();
    }

    /// <summary>The open watch ended (without an error, or before its error is classified by <see cref="Failed"/>).</summary>
    public void Closed()
    {
        if (_openedAt == NotOpen)
        {
            return;
        }

        long now = _time.GetTimestamp();
        if (_failingSince != NotFailing)
        {
            // The watch was open for part of the run: that part was contact, so the run starts that much later.
            _failingSince += now - _openedAt;
        }

        _openedAt = NotOpen;
        AssertInvariants();
    }

    /// <summary>The datastore answered (a list, an event, a bookmark): contact, and proof of it; ends a run of failures.</summary>
    public void Heard()
    {
        Volatile.Write(ref _lastHeard, _time.GetTimestamp());
        _failingSince = NotFailing;
        _expired = false;
        AssertInvariants();
    }

    /// <summary>
    /// A list or watch failed (a watch still open is closed first). Returns true exactly once per run of failures:
    /// when the run's time out of a watch has reached the retry timeout.
    /// </summary>
    public bool Failed()
    {
        Closed();
        long now = _time.GetTimestamp();
        if (_failingSince == NotFailing)
        {
            _failingSince = now;
        }

        bool expiresNow = !_expired && _time.GetElapsedTime(_failingSince, now) >= _retryTimeout;
        _expired |= expiresNow;
        AssertInvariants();
        return expiresNow;
    }

    [System.Diagnostics.Conditional("DEBUG")]
    private void AssertInvariants()
    {
        System.Diagnostics.Debug.Assert(!_expired || _failingSince != NotFailing, "Contact cannot have expired while in contact.");
        System.Diagnostics.Debug.Assert(_failingSince == NotFailing || _failingSince <= _time.GetTimestamp(), "A run of failures cannot start in the future.");
    }
}

/// <summary>Where a <see cref="ContactClock"/> is.</summary>
internal enum ContactState
{
    /// <summary>No failure since the datastore was last heard from.</summary>
    InContact,

    /// <summary>Failing, for less than the retry timeout.</summary>
    Failing,

    /// <summary>Failing for the retry timeout or longer; the loss has been reported.</summary>
    Expired,
}
