namespace WatcherSync.Relay.Server;

/// <summary>
/// The relay's connection limit: the lower of the operator's limit (<see cref="RelayServerOptions.MaxConnections"/>,
/// then whatever <see cref="RelayServerControl.SetMaxConnections"/> set) and the relay's share of its fleet's clients,
/// once a fleet size is known. Each change hands the limit in force to the <see cref="ConnectionShedder"/>, which
/// refuses clients past it and moves the excess away, paced.
/// </summary>
/// <remarks>
/// State, under <c>_sync</c>: <c>_operatorLimit</c> is the operator's limit; <c>_share</c> is the fleet share, null
/// until a fleet size is known. The limit in force is always <c>min(_operatorLimit, _share ?? int.MaxValue)</c>, so an
/// operator who takes a relay out of rotation (limit 0) is never overruled by a fleet size coming later, and a share
/// never raises the limit above what the relay was configured to hold.
/// </remarks>
internal sealed class ConnectionLimit(ConnectionShedder shedder, RelayServerOptions options)
{
    private readonly Lock _sync = new();
    private int _operatorLimit = options.MaxConnections;
    private int? _share;

    /// <summary>Gets the fleet share last computed; null until a fleet size is known.</summary>
    public int? Share
    {
        get
        {
            lock (_sync)
            {
                return _share;
            }
        }
    }

    /// <summary>
    /// The share of <paramref name="size"/>'s clients one relay holds: the clients over the relays, plus
    /// <paramref name="slack"/> of it so that the pool has room for clients on the move, rounded up, and at least
    /// <paramref name="minimum"/> (a pool that reports few or no clients, as when it starts, must still take them).
    /// </summary>
    /// <remarks>
    /// In decimal, not double: a product that is a whole number in decimal (50 × 1.1 = 55) is 55.000000000000007 in
    /// double, whose ceiling is one more than the documented share. <see cref="RelayServerOptions.Validate"/> bounds the
    /// slack, so the product fits.
    /// </remarks>
    public static int ShareOf(RelayFleetSize size, double slack, int minimum)
    {
        decimal share = Math.Ceiling(size.Clients * (1 + (decimal)slack) / size.Relays);
        return share >= int.MaxValue ? int.MaxValue : Math.Max(minimum, (int)share);
    }

    /// <summary>Sets the operator's limit.</summary>
    public void SetOperatorLimit(int limit)
    {
        lock (_sync)
        {
            _operatorLimit = limit;
            Apply();
        }
    }

    /// <summary>Sets the fleet's size, and so the relay's share; returns the share.</summary>
    public int SetFleetSize(RelayFleetSize size)
    {
        // Named as RelayServerControl.SetFleetSize's parameters, which is where they come from or are documented.
        ArgumentOutOfRangeException.ThrowIfLessThan(size.Relays, 1, "relays");
        ArgumentOutOfRangeException.ThrowIfNegative(size.Clients, "clients");
        int share = ShareOf(size, options.FleetSlack, options.MinFleetShare);
        lock (_sync)
        {
            // The same share again changes nothing: a source polled every few seconds must not log or shed each time.
            if (_share != share)
            {
                _share = share;
                Apply();
            }
        }

        return share;
    }

    private void Apply() => shedder.SetLimit(Math.Min(_operatorLimit, _share ?? int.MaxValue));
}
