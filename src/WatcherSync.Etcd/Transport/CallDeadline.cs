namespace WatcherSync.Etcd.Transport;

/// <summary>
/// The deadline of one call, on the client's <see cref="TimeProvider"/>: a token that is cancelled when the caller
/// cancels or the timeout passes. Disposing it ends its timer, so no timer outlives its call, and a timer callback
/// racing with the dispose finds the source disposed and does nothing.
/// </summary>
internal sealed class CallDeadline : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly ITimer? _timer;
    private volatile bool _expired;

    public CallDeadline(TimeProvider time, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            _timer = time.CreateTimer(static s => ((CallDeadline)s!).Expire(), this, timeout, Timeout.InfiniteTimeSpan);
        }
    }

    public CancellationToken Token => _source.Token;

    /// <summary>Gets whether the timeout (not the caller) ended the call.</summary>
    public bool Expired => _expired;

    public void Dispose()
    {
        _timer?.Dispose();
        _source.Dispose();
    }

    private void Expire()
    {
        _expired = true;
        try
        {
            _source.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call finished while the timer fired.
        }
    }
}
