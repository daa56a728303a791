namespace WatcherSync.Relay;

/// <summary>
/// What one connection of a <see cref="RelaySyncer"/> to a relay came to, read by the connection loop when it ends.
/// Written by the connection (and by its silence watchdog and TLS check, which may run beside it); each flag only goes
/// from false to true (and <see cref="Refused"/> from null to a refusal) within a session.
/// </summary>
internal sealed class RelaySession
{
    /// <summary>Gets or sets whether the session completed a resync (a snapshot or a resume): the client is in business.</summary>
    public bool Resynced { get; set; }

    /// <summary>Gets or sets whether the relay has sent anything on this connection.</summary>
    public bool Heard { get; set; }

    /// <summary>Gets or sets a refusal found beside the call (an <c>http://</c> endpoint that speaks TLS).</summary>
    public RelayRefusedException? Refused { get; set; }

    /// <summary>Gets or sets whether the connection was ended because the relay went silent.</summary>
    public bool Silent { get; set; }
}
