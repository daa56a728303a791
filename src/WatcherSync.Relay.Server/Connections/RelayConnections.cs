using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace WatcherSync.Relay.Server;

/// <summary>The clients connected to a relay: the connection limit, and what metrics and tests read about them.</summary>
/// <remarks>
/// State: <c>_count</c> counts the calls that took a place (<see cref="TryEnter"/>) and have not left; <c>_open</c>
/// holds those of them past their hello; <c>_limit</c> is the connection limit, which may be lowered below
/// <c>_count</c> at run time (the <see cref="ConnectionShedder"/> then moves the excess away); <c>_lastId</c> numbers
/// connections in the order they came.
/// </remarks>
internal sealed class RelayConnections(RelayServerOptions options)
{
    private readonly ConcurrentDictionary<RelayConnection, byte> _open = new();
    private int _count;
    private int _limit = options.MaxConnections;
    private long _lastId;

    public int Count => Volatile.Read(ref _count);

    public int Limit
    {
        get => Volatile.Read(ref _limit);
        set => Volatile.Write(ref _limit, value);
    }

    public ICollection<RelayConnection> Open => _open.Keys;

    /// <summary>A number for a new connection, higher than every earlier one's.</summary>
    public long NextId() => Interlocked.Increment(ref _lastId);

    /// <summary>Takes a place for a new connection; false when the relay is full.</summary>
    /// <remarks>
    /// Never counts a refused attempt, even for a moment: a shed round reading the count then would take it for a client
    /// over the limit and move a real one away (a full relay under a reconnect storm would push out its own clients).
    /// </remarks>
    public bool TryEnter()
    {
        int count = Volatile.Read(ref _count);
        while (true)
        {
            if (count >= Limit)
            {
                return false;
            }

            int seen = Interlocked.CompareExchange(ref _count, count + 1, count);
            if (seen == count)
            {
                return true;
            }

            count = seen;
        }
    }

    public void Exit() => Interlocked.Decrement(ref _count);

    public void Add(RelayConnection connection) => _open.TryAdd(connection, 0);

    public void Remove(RelayConnection connection) => _open.TryRemove(connection, out _);

    public IEnumerable<Measurement<long>> MaxLag()
    {
        var lags = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (RelayConnection connection in _open.Keys)
        {
            if (connection.Feed is { } feed)
            {
                long lag = Math.Max(0, feed.Sequence - connection.Cursor);
                lags[feed.Name] = Math.Max(lags.GetValueOrDefault(feed.Name), lag);
            }
        }

        foreach ((string feed, long lag) in lags)
        {
            yield return new Measurement<long>(lag, new KeyValuePair<string, object?>("feed", feed));
        }
    }
}
