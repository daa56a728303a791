namespace WatcherSync.Relay.Server;

/// <summary>
/// How many relays serve a pool and how many clients the pool serves: what a relay needs to know to hold its share of
/// the clients (see <see cref="RelayServerControl.SetFleetSize"/> and <see cref="RelayServerOptions.FleetSizeSource"/>).
/// </summary>
/// <param name="Relays">The relays serving the pool, this one included; at least 1.</param>
/// <param name="Clients">The clients the pool serves (connected or expected, as a node count is); 0 or more.</param>
public readonly record struct RelayFleetSize(int Relays, int Clients);
