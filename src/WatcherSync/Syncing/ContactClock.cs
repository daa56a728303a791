namespace WatcherSync;

/// <summary>
/// How long a watcher cache has been out of contact with the datastore, and when it last heard from it.
/// </summary>
/// <remarks>
/// <para>Contact is a state, not an event: a watch that is open and has not failed is in contact however quiet it is.
/// Loss of contact therefore counts from the first failure after the last success (a list, a watch opened, an event
/// or bookmark heard), never from the last event, so one transient error after a quiet spell is just that.</para>
/// <para>State, written by the cache's one loop and read from any thread for <see cref="LastHeardTimestamp"/>:
/// <list type="bullet">
/// <item><c>_failingSince == NotFailing</c>: in contact (<see cref="ContactState.InContact"/>); <c>_expired</c> is false.</item>
/// <item><c>_failingSince != NotFailing</c>, <c>_expired</c> false: failing, not yet for the retry timeout
/// (<see cref="ContactState.Failing"/>).</item>
/// <item><c>_failingSince != NotFailing</c>, <c>_expired</c> true: failing for at least the retry timeout, and the loss
/// has been reported once (<see cref="ContactState.Expired"/>).</item>
/// </list>
/// <c>_expired</c> is never true while in contact. <c>_lastHeard</c> only moves forward.</para>
/// </remarks>
internal sealed class ContactClock
{
    private const long NotFailing = -1;

    private readonly TimeProvider _time;
    private readonly TimeSpan _retryTimeout;
    private long _lastHeard;
    private long _failingSince = NotFailing;
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

    /// <summary>A watch was opened: contact from now on, until a failure.</summary>
    public void Opened() => Heard();

    /// <summary>The datastore answered (a list, an event, a bookmark): contact, and proof of it.</summary>
    public void Heard()
    {
        Volatile.Write(ref _lastHeard, _time.GetTimestamp());
        _failingSince = NotFailing;
        _expired = false;
        AssertInvariants();
    }

    /// <summary>
    /// A list or watch failed. Returns true exactly once per run of failures: when this run has lasted the retry
    /// timeout (counted from its first failure).
    /// </summary>
    public bool Failed()
    {
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
    private void AssertInvariants() =>
        System.Diagnostics.Debug.Assert(!_expired || _failingSince != NotFailing, "Contact cannot have expired while in contact.");
}

/// <summary>Where a <see cref="ContactClock"/> is.</summary>
internal enum ContactState
{
    /// <summary>No failure since the datastore was last heard from or a watch was opened.</summary>
    InContact,

    /// <summary>Failing, for less than the retry timeout.</summary>
    Failing,

    /// <summary>Failing for the retry timeout or longer; the loss has been reported.</summary>
    Expired,
}
