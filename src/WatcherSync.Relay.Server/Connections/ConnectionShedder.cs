using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Logging;

namespace WatcherSync.Relay.Server;

/// <summary>
/// Moves clients away from the relay a few at a time: while it holds more than its connection limit (lowered at run
/// time), at most <see cref="RelayServerOptions.ShedBatchSize"/> every <see cref="RelayServerOptions.ShedInterval"/>,
/// newest first; and once it stops, all of them spread evenly over <see cref="RelayServerOptions.ShutdownDrainTime"/>,
/// newest first, ending at once whatever is left at its end. Each client moved is told <c>Unavailable</c>, which a
/// <c>RelaySyncer</c> takes as transient: it tries its next relay after its jittered backoff, and resumes there.
/// </summary>
/// <remarks>
/// The newest go first: they have had the least time to settle (a client moved before it has its picture wastes the
/// snapshot it was sent), and the long-lived clients stay where they are. State: <c>_drainDeadline</c> is 0 until the
/// relay starts stopping, then the timestamp by which every client must be gone; <c>_whenDrained</c> is what to do at
/// that deadline (end whatever has not gone), run once; <c>_drained</c> holds the transports of the clients moved away
/// during the drain, all closed at its end (a frozen client never closes its connection, whether it heard its status
/// or not, and the server's graceful stop would wait for it). Rounds run under <c>_sync</c>, on the timer or when the limit
/// is lowered; they only ask connections to leave, and never wait.
/// </remarks>
internal sealed class ConnectionShedder : IDisposable
{
    internal const string ShedDetail = "The relay holds more clients than its connection limit; moving this client to another relay.";
    internal const string DrainDetail = "The relay is shutting down; moving this client to another relay.";

    private readonly RelayConnections _connections;
    private readonly RelayServerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    /// <summary>The longest period a timer takes.</summary>
    internal static readonly TimeSpan LongestInterval = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly ITimer _timer;
    private ITimer? _drainEnd;
    private long _lastMoved;
    private readonly Lock _sync = new();
    private readonly List<IConnectionLifetimeFeature> _drained = [];
    private long _drainDeadline;
    private Action? _whenDrained;

    public ConnectionShedder(RelayConnections connections, RelayServerOptions options, ILogger logger)
    {
        _connections = connections;
        _options = options;
        _logger = logger;
        _time = options.TimeProvider;
        _timer = _time.CreateTimer(static state => ((ConnectionShedder)state!).Round(), this, options.ShedInterval, options.ShedInterval);
    }

    /// <summary>Gets whether the relay is stopping and moving its clients away.</summary>
    public bool Draining => Volatile.Read(ref _drainDeadline) != 0;

    /// <summary>Sets the connection limit; a lower one than the clients held moves the excess away, paced.</summary>
    /// <remarks>The first excess is moved at once, unless clients were moved within the last interval: setting the limit
    /// again (or during the drain) never moves more than the pace allows.</remarks>
    public void SetLimit(int limit)
    {
        _connections.Limit = limit;
        RelayServerLog.ConnectionLimitSet(_logger, limit, _connections.Count, _options.ShedBatchSize, _options.ShedInterval);
        if (!Draining && (Volatile.Read(ref _lastMoved) == 0 || _time.GetElapsedTime(Volatile.Read(ref _lastMoved)) >= _options.ShedInterval))
        {
            // The timer's next round comes a whole interval after this one, not at its old time: a limit set between two
            // rounds would otherwise see a second batch moved within the interval.
            _timer.Change(_options.ShedInterval, _options.ShedInterval);
            Round();
        }
    }

    /// <summary>
    /// Starts moving every client away over the drain time; <paramref name="whenOver"/> runs once at its end (it ends
    /// whatever has not gone, clients before their hello included).
    /// </summary>
    public void BeginDrain(Action whenOver)
    {
        lock (_sync)
        {
            if (Draining)
            {
                return;
            }

            _whenDrained = whenOver;

            // Saturated: a drain time of years (or TimeSpan.MaxValue) must not wrap the deadline into the past.
            double ticks = _options.ShutdownDrainTime.TotalSeconds * _time.TimestampFrequency;
            long now = _time.GetTimestamp();
            Volatile.Write(ref _drainDeadline, ticks >= long.MaxValue - now ? long.MaxValue : now + (long)ticks);

            // The drain ends at its deadline, not at the first shed tick after it (ShedInterval may be longer).
            if (_options.ShutdownDrainTime <= LongestInterval)
            {
                _drainEnd = _time.CreateTimer(static state => ((ConnectionShedder)state!).Round(), this, _options.ShutdownDrainTime, Timeout.InfiniteTimeSpan);
            }
        }

        RelayServerLog.Draining(_logger, _connections.Count, _options.ShutdownDrainTime);
        Round();
    }

    public void Dispose()
    {
        _timer.Dispose();
        lock (_sync)
        {
            _drainEnd?.Dispose();
        }
    }

    private void Round()
    {
        Action? over = null;
        lock (_sync)
        {
            long deadline = Volatile.Read(ref _drainDeadline);
            if (deadline == 0)
            {
                // Cheap when there is nothing to do, as on nearly every tick: no list is made.
                int excess = _connections.Count - _connections.Limit;
                if (excess > 0)
                {
                    excess -= _connections.Open.Count(static c => c.Leaving);
                    MoveAway(Staying(), Math.Min(excess, _options.ShedBatchSize), ShedDetail, "shed");
                    Volatile.Write(ref _lastMoved, _time.GetTimestamp());
                }
            }
            else
            {
                double seconds = (deadline - _time.GetTimestamp()) / (double)_time.TimestampFrequency;
                TimeSpan left = seconds >= TimeSpan.MaxValue.TotalSeconds ? TimeSpan.MaxValue : TimeSpan.FromSeconds(seconds);
                if (left > TimeSpan.Zero)
                {
                    // Spread evenly over the rounds left, the last of which comes before the deadline.
                    List<RelayConnection> staying = Staying();
                    // In longs, and rounded up without adding: a drain time of years makes the rounds left huge.
                    long rounds = Math.Max(1L, (long)Math.Min(long.MaxValue, Math.Floor(left.Ticks / (double)_options.ShedInterval.Ticks)));
                    int count = staying.Count == 0 ? 0 : (int)Math.Min(staying.Count, 1 + ((staying.Count - 1) / rounds));
                    MoveAway(staying, count, DrainDetail, "drained");
                    _drained.AddRange(staying.Take(count).Select(static c => c.Transport).OfType<IConnectionLifetimeFeature>());
                }
                else
                {
                    if (_connections.Count > 0)
                    {
                        RelayServerLog.DrainOver(_logger, _connections.Count);
                    }

                    foreach (RelayConnection connection in _connections.Open)
                    {
                        connection.Abort(DrainDetail, "drained");
                        connection.Transport?.Abort();
                    }

                    // Closing a connection that has closed already does nothing.
                    _drained.ForEach(static transport => transport.Abort());
                    _drained.Clear();

                    (over, _whenDrained) = (_whenDrained, null);
                }
            }
        }

        over?.Invoke();
    }

    /// <summary>The connections not yet asked to leave, newest first.</summary>
    private List<RelayConnection> Staying() => [.. _connections.Open.Where(static c => !c.Leaving).OrderByDescending(static c => c.Id)];

    private static void MoveAway(List<RelayConnection> newestFirst, int count, string detail, string reason)
    {
        for (int i = 0; i < count && i < newestFirst.Count; i++)
        {
            newestFirst[i].MoveAway(detail, reason);
        }
    }
}
