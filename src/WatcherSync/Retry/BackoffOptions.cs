namespace WatcherSync;

/// <summary>
/// How a syncer spaces its retries after failures: exponential growth with full jitter, capped, and reset after a
/// healthy period. The defaults are client-go's reflector's (800 ms, factor 2, 30 s cap, reset after 2 min): a fleet
/// of clients cut off together (a datastore restart) comes back spread over the backoff window instead of in step.
/// </summary>
/// <remarks>
/// The n-th retry in a row (n from 0) waits <c>floor + uniform(0, min(InitialDelay × Factor^n, MaxDelay − floor))</c>,
/// where the floor is the fixed interval of the retry's kind (for example
/// <see cref="WatcherSyncerOptions.ListRetryInterval"/>). Once no retry has been needed for <see cref="ResetAfter"/>,
/// the next failure starts again from <see cref="InitialDelay"/>.
/// </remarks>
public sealed class BackoffOptions
{
    /// <summary>Gets or sets the ceiling of the jitter of the first retry in a row. Default: 800 ms.</summary>
    public TimeSpan InitialDelay { get; set; } = TimeSpan.FromMilliseconds(800);

    /// <summary>Gets or sets how much the ceiling grows with each retry in a row. At least 1. Default: 2.</summary>
    public double Factor { get; set; } = 2.0;

    /// <summary>Gets or sets the longest wait before a retry (the floor included); at most about 49.7 days, the longest a timer waits. Default: 30 s.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long without a retry counts as healthy: the next failure starts the growth again. Default: 2 min.</summary>
    public TimeSpan ResetAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Gets or sets the source of the jitter; null (the default) for <see cref="System.Random.Shared"/>. Give a seeded
    /// one to repeat a run; draws from it are serialized, so several syncers may share it.
    /// </summary>
    public Random? Random { get; set; }

    /// <summary>The longest wait a timer can make (about 49.7 days): a longer delay would end the retrying loop.</summary>
    internal static readonly TimeSpan LongestDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialDelay, TimeSpan.Zero, nameof(InitialDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxDelay, TimeSpan.Zero, nameof(MaxDelay));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(InitialDelay, LongestDelay, nameof(InitialDelay));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxDelay, LongestDelay, nameof(MaxDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(ResetAfter, TimeSpan.Zero, nameof(ResetAfter));
        if (double.IsNaN(Factor) || Factor < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Factor), Factor, "The factor must be at least 1.");
        }
    }
}
