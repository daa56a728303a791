namespace WatcherSync;

/// <summary>
/// The delays before retries in a row: exponential growth with full jitter above a floor, capped, and reset after a
/// healthy period (<see cref="BackoffOptions"/>). Used by one loop at a time; not thread-safe.
/// </summary>
internal sealed class ExponentialBackoff
{
    // Beyond this many retries the ceiling is the cap whatever the options (and Math.Pow stays finite).
    private const int MaxExponent = 62;

    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly bool _sharedRandom;
    private readonly double _initialTicks;
    private readonly double _factor;
    private readonly TimeSpan _maxDelay;
    private readonly TimeSpan _resetAfter;

    // State: _attempts ≥ 0 is the number of retries in a row since the last reset. _attempts == 0 ⇔ no retry since the
    // last reset; then _lastDelay is zero. Otherwise _lastDrawAt is when the last delay was drawn and _lastDelay its
    // length: the retry happened at _lastDrawAt + _lastDelay, and the healthy time counts from there.
    private int _attempts;
    private long _lastDrawAt;
    private TimeSpan _lastDelay;

    public ExponentialBackoff(BackoffOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        options.Validate();
        _time = time;
        _random = options.Random ?? Random.Shared;
        _sharedRandom = options.Random is null;
        _initialTicks = options.InitialDelay.Ticks;
        _factor = options.Factor;
        _maxDelay = options.MaxDelay;
        _resetAfter = options.ResetAfter;
    }

    /// <summary>Gets the number of retries in a row since the last reset.</summary>
    public int Attempts => _attempts;

    /// <summary>
    /// A failure: returns how long to wait before retrying, at least <paramref name="floor"/> and at most the cap (or the
    /// floor, when the floor is above the cap), and counts the retry.
    /// </summary>
    public TimeSpan Next(TimeSpan floor)
    {
        long now = _time.GetTimestamp();
        if (_attempts > 0 && _time.GetElapsedTime(_lastDrawAt, now) - _lastDelay >= _resetAfter)
        {
            _attempts = 0;
        }

        floor = floor < TimeSpan.Zero ? TimeSpan.Zero : floor;
        double room = Math.Max(0, (_maxDelay - floor).Ticks);
        double ceiling = Math.Min(room, _initialTicks * Math.Pow(_factor, Math.Min(_attempts, MaxExponent)));
        // The floor is another option's interval, which may be longer than a timer waits: clamped, the retry still comes.
        TimeSpan delay = floor + TimeSpan.FromTicks((long)(NextUnit() * ceiling));
        delay = delay > BackoffOptions.LongestDelay ? BackoffOptions.LongestDelay : delay;
        _attempts = Math.Min(_attempts + 1, MaxExponent);
        _lastDrawAt = now;
        _lastDelay = delay;
        return delay;
    }

    /// <summary>Starts the growth again (the retried operation proved healthy).</summary>
    public void Reset()
    {
        _attempts = 0;
        _lastDelay = TimeSpan.Zero;
    }

    private double NextUnit()
    {
        if (_sharedRandom)
        {
            return _random.NextDouble();
        }

        // A seeded Random is not thread-safe, and the caches of one syncer (or several syncers) may share it.
        lock (_random)
        {
            return _random.NextDouble();
        }
    }
}
