using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace WatcherSync.Relay.Server;

/// <summary>The clients connected to a relay: the connection limit, and what metrics and tests read about them.</summary>
internal sealed class RelayConnections(RelayServerOptions options)
{
    private readonly ConcurrentDictionary<RelayConnection, byte> _open = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public ICollection<RelayConnection> Open => _open.Keys;

    /// <summary>Takes a place for a new connection; false when the relay is full.</summary>
    public bool TryEnter()
    {
        if (Interlocked.Increment(ref _count) > options.MaxConnections)
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
