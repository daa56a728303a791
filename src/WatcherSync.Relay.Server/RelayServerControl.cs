namespace WatcherSync.Relay.Server;

/// <summary>
/// Controls a running relay: its connection limit can change at run time (as a controller that knows how many relays
/// and clients there are sets each relay's share, or through <see cref="SetFleetSize"/>). Resolve it from the
/// application's services.
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
    /// <remarks>
    /// With a fleet size known (<see cref="SetFleetSize"/>, <see cref="RelayServerOptions.FleetSizeSource"/>), the limit in
    /// force is the lower of this one and the relay's share: 0 takes the relay out of rotation whatever the fleet says.
    /// </remarks>
    public void SetMaxConnections(int maxConnections)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxConnections);
        _host.Limit.SetOperatorLimit(maxConnections);
    }

    /// <summary>Gets the relay's share of its fleet's clients; null until a fleet size is known.</summary>
    public int? FleetShare => _host.Limit.Share;

    /// <summary>
    /// Tells the relay how many relays and clients its pool has, so that it holds its share of the clients:
    /// ⌈clients × (1 + <see cref="RelayServerOptions.FleetSlack"/>) / relays⌉, at least
    /// <see cref="RelayServerOptions.MinFleetShare"/>. The limit in force becomes the lower of that share and the
    /// operator's limit (<see cref="SetMaxConnections"/>); clients past it are moved away paced, as there, and resume on
    /// the other relays. This is how a relay added to a pool takes load: every relay's share falls, and the excess of the
    /// fuller ones moves. <see cref="RelayServerOptions.FleetSizeSource"/> calls this on a timer.
    /// </summary>
    /// <param name="relays">The relays serving the pool, this one included; at least 1.</param>
    /// <param name="clients">The clients the pool serves; 0 or more.</param>
    /// <returns>The relay's share.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="relays"/> is less than 1 or <paramref name="clients"/> negative.</exception>
    public int SetFleetSize(int relays, int clients) => _host.Limit.SetFleetSize(new RelayFleetSize(relays, clients));
}
