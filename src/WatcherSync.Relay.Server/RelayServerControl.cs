namespace WatcherSync.Relay.Server;

/// <summary>
/// Controls a running relay: its connection limit can change at run time (as a controller that knows how many relays
/// and clients there are sets each relay's share). Resolve it from the application's services.
/// </summary>
public sealed class RelayServerControl
{
    private readonly RelayHost _host;

    internal RelayServerControl(RelayHost host) => _host = host;

    /// <summary>Gets the connection limit in force.</summary>
    public int MaxConnections => _host.Connections.Limit;

    /// <summary>Gets how many clients are connected.</summary>
    public int Connections => _host.Connections.Count;

    /// <summary>
    /// Sets the connection limit. New clients past it are refused (<c>ResourceExhausted</c>); when the relay holds more,
    /// it moves the newest away, at most <see cref="RelayServerOptions.ShedBatchSize"/> every
    /// <see cref="RelayServerOptions.ShedInterval"/>, each with <c>Unavailable</c>, so that they reconnect to other relays
    /// (after their jittered backoff) and resume there. 0 moves every client away and takes none.
    /// </summary>
    /// <param name="maxConnections">The new limit; 0 or more.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxConnections"/> is negative.</exception>
    public void SetMaxConnections(int maxConnections)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxConnections);
        _host.Shedder.SetLimit(maxConnections);
    }
}
