namespace WatcherSync.Etcd.Leasing;

/// <summary>
/// The health of one lease as its keepalive sees it: when etcd last confirmed it, when to send the next keepalive and
/// how long one may take. A keepalive goes every third of the TTL while they succeed and again soon after one fails
/// (clientv3 retries after 500 ms), and no attempt takes longer than a sixth of the TTL. So even a cut that loses
/// every byte costs a few failed attempts, not the lease, as long as it is shorter than the TTL less a sixth of it and
/// the retry delay (7 s of a 9 s TTL, 24.5 s of the default 30 s); when the network holds bytes rather than losing
/// them (TCP retransmits), the attempt in flight completes when it heals.
/// </summary>
internal sealed class LeaseHealth
{
    /// <summary>How soon a failed keepalive is tried again (as clientv3).</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(500);

    private readonly TimeProvider _time;
    private readonly TimeSpan _ttl;
    private readonly TimeSpan _requestTimeout;

    // Invariants: _confirmed is the timestamp of the grant or of the last keepalive etcd answered with a positive TTL;
    // _failures counts the keepalives that failed since then.
    private long _confirmed;
    private int _failures;

    public LeaseHealth(TimeProvider time, TimeSpan ttl, TimeSpan requestTimeout)
    {
        _time = time;
        _ttl = ttl;
        _requestTimeout = requestTimeout;
        _confirmed = time.GetTimestamp();
    }

    /// <summary>Gets how many keepalives failed since etcd last confirmed the lease.</summary>
    public int Failures => Volatile.Read(ref _failures);

    /// <summary>Gets the longest one keepalive attempt may take: the request timeout, at most a sixth of the TTL.</summary>
    public TimeSpan AttemptTimeout =>
        _requestTimeout == Timeout.InfiniteTimeSpan || _requestTimeout > _ttl / 6 ? _ttl / 6 : _requestTimeout;

    /// <summary>Gets how long to wait before the next keepalive: a third of the TTL, or the retry delay after a failure.</summary>
    public TimeSpan NextDelay => Failures > 0 ? RetryDelay : _ttl / 3;

    /// <summary>Gets whether etcd has not confirmed the lease for a whole TTL: it has probably expired.</summary>
    public bool PresumedExpired => _time.GetElapsedTime(Interlocked.Read(ref _confirmed)) >= _ttl;

    /// <summary>etcd answered a keepalive with a positive TTL.</summary>
    public void Confirmed()
    {
        Interlocked.Exchange(ref _confirmed, _time.GetTimestamp());
        Interlocked.Exchange(ref _failures, 0);
    }

    /// <summary>A keepalive failed (timeout, unreachable): try again soon.</summary>
    public void Failed() => Interlocked.Increment(ref _failures);
}
