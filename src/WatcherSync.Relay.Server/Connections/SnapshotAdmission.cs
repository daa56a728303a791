namespace WatcherSync.Relay.Server;

/// <summary>
/// Admission control for snapshots: at most <see cref="RelayServerOptions.MaxConcurrentSnapshots"/> clients receive a
/// snapshot at once; the others wait their turn in the order they came (SemaphoreSlim queues its asynchronous waiters
/// in order). A client continued from its position never comes here.
/// </summary>
/// <remarks>
/// State: <c>_slots</c> holds the free turns; <c>_inFlight</c> counts the turns taken and not given back (0 ≤ it ≤
/// limit, and it plus the free turns is the limit); <c>_waiting</c> counts the clients inside <see cref="EnterAsync"/>
/// that have no turn yet; <c>_mostInFlight</c> is the highest <c>_inFlight</c> seen, kept for tests and figures.
/// </remarks>
internal sealed class SnapshotAdmission(int limit)
{
    private readonly SemaphoreSlim _slots = new(limit, limit);
    private int _inFlight;
    private int _waiting;
    private int _mostInFlight;
    private int _mostWaiting;

    public int Limit => limit;

    /// <summary>Gets how many clients are receiving a snapshot now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Gets how many clients are waiting for their turn.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Gets the most clients seen receiving a snapshot at once.</summary>
    public int MostInFlight => Volatile.Read(ref _mostInFlight);

    /// <summary>Gets the most clients seen waiting at once.</summary>
    public int MostWaiting => Volatile.Read(ref _mostWaiting);

    /// <summary>
    /// Waits for a turn, calling <paramref name="whileWaiting"/> every <paramref name="step"/> (the caller pings its
    /// client), at most <paramref name="timeout"/>. True once the turn is taken (give it back with <see cref="Exit"/>),
    /// false when the wait is over.
    /// </summary>
    public async Task<bool> EnterAsync(TimeSpan timeout, TimeSpan step, TimeProvider time, Func<CancellationToken, Task> whileWaiting, CancellationToken token)
    {
        if (_slots.Wait(0, CancellationToken.None))
        {
            Entered();
            return true;
        }

        Max(ref _mostWaiting, Interlocked.Increment(ref _waiting));
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(token);
        Task turn = _slots.WaitAsync(giveUp.Token);
        bool waited = false;
        bool taken = false;
        try
        {
            long started = time.GetTimestamp();
            while (!turn.IsCompleted && time.GetElapsedTime(started) < timeout)
            {
                try
                {
                    await turn.WaitAsync(Min(step, timeout - time.GetElapsedTime(started)), time, token).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    await whileWaiting(token).ConfigureAwait(false);
                }
            }

            waited = true;
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
            if (!turn.IsCompleted)
            {
                await giveUp.CancelAsync().ConfigureAwait(false);
            }

            try
            {
                // The turn may have come just as the wait was given up: it is taken then, and kept or given back below.
                await turn.ConfigureAwait(false);
                taken = true;
            }
            catch (OperationCanceledException)
            {
            }

            if (taken && !waited)
            {
                // The wait ended with an exception (the client went away): the turn is not used.
                _slots.Release();
            }
        }

        if (taken)
        {
            Entered();
        }

        return taken;
    }

    public void Exit()
    {
        Interlocked.Decrement(ref _inFlight);
        _slots.Release();
    }

    private void Entered() => Max(ref _mostInFlight, Interlocked.Increment(ref _inFlight));

    private static void Max(ref int most, int value)
    {
        int seen = Volatile.Read(ref most);
        while (value > seen && Interlocked.CompareExchange(ref most, value, seen) is int actual && actual != seen)
        {
            seen = actual;
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
