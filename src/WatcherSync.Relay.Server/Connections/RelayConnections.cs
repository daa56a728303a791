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
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _count) > Limit)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }

        return true;
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
