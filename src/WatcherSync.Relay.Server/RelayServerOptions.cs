using System.Security.Cryptography.X509Certificates;

namespace WatcherSync.Relay.Server;

/// <summary>Options of a relay server. Every limit has a default sized for thousands of clients on one relay.</summary>
public sealed class RelayServerOptions
{
    /// <summary>Gets the feeds the relay serves (at least one, with distinct names).</summary>
    public IList<RelayFeedOptions> Feeds { get; } = [];

    /// <summary>Gets or sets the name the relay gives itself in its welcome. Default: the machine name.</summary>
    public string ServerName { get; set; } = Environment.MachineName;

    /// <summary>
    /// Gets or sets how many clients may be connected at once when the relay starts; past it new clients are refused with
    /// ResourceExhausted. Change it at run time with <see cref="RelayServerControl.SetMaxConnections"/>. Default 10,000.
    /// </summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets how many updates and statuses each feed's log keeps for clients that are behind. A client further
    /// behind than the log holds is cut off, and resyncs when it reconnects. Default 100,000.
    /// </summary>
    /// <remarks>At least 256 (the log's first allocation).</remarks>
    public int MaxLogEntries { get; set; } = 100_000;

    // The log starts with this many slots; fewer would not be a bound but a fiction.
    internal const int MinLogEntries = 256;

    /// <summary>The largest <see cref="FleetSlack"/>: a share 101 times an even split is no share at all.</summary>
    internal const double MaxFleetSlack = 100;

    /// <summary>The shortest period of the relay's timers: a system timer's period is in whole milliseconds, and one
    /// that rounds down to 0 fires once and never again.</summary>
    internal static readonly TimeSpan ShortestInterval = TimeSpan.FromMilliseconds(1);

    // Half the 64 MiB a client accepts, so that a value plus a chunk and framing always fits in one message.
    internal const int MaxValueBytesLimit = 32 * 1024 * 1024;

    /// <summary>Gets or sets the most bytes of encoded updates each feed's log keeps. Default 64 MiB.</summary>
    public long MaxLogBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Gets or sets the size a snapshot chunk aims for. Default 16 KiB: the transport keeps buffers of the size of the
    /// messages in flight, so small chunks keep the memory per connected client small (see benchmarks/README.md).
    /// </summary>
    public int SnapshotChunkBytes { get; set; } = 16 * 1024;

    /// <summary>
    /// Gets or sets the largest encoded value a feed passes on. A larger value is refused at the feed: it is logged as
    /// an error, counted, and clients hear the key deleted (they must not keep a value the datastore no longer has).
    /// Every message the relay sends is at most this plus <see cref="SnapshotChunkBytes"/> and some framing, well under
    /// the 64 MiB a client accepts. Default 16 MiB; at most 32 MiB.
    /// </summary>
    public int MaxValueBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Gets or sets how many superseded snapshots a feed keeps alive for clients still reading them, besides its latest
    /// one. When a new snapshot would make more than this many superseded snapshots pinned, the readers of the oldest
    /// are cut off (<c>ResourceExhausted</c>; they reconnect and take the latest), so that slow clients that joined at
    /// different times cannot each keep a whole snapshot alive. Default 2; 0 keeps only the latest.
    /// </summary>
    public int MaxSupersededSnapshots { get; set; } = 2;

    /// <summary>
    /// Gets or sets how many clients may be receiving a snapshot at once. Others that need one wait their turn (in the
    /// order they came, pinged meanwhile); clients continued from their position without a snapshot never wait.
    /// Default 4 × the processor count: sending a snapshot costs the relay CPU (framing, TLS) and a send window of
    /// memory per client, and a reconnecting fleet would otherwise ask for all of it at once.
    /// </summary>
    public int MaxConcurrentSnapshots { get; set; } = 4 * Environment.ProcessorCount;

    /// <summary>
    /// Gets or sets how long a client may wait for its turn to receive a snapshot. Past it the client is sent away with
    /// <c>ResourceExhausted</c>, which a <c>RelaySyncer</c> treats as transient: it backs off and tries its next relay.
    /// Default 1 min.
    /// </summary>
    public TimeSpan SnapshotAdmissionTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets how often the relay moves clients away while it holds more than its connection limit (lowered at run
    /// time with <see cref="RelayServerControl.SetMaxConnections"/>). Default 1 s.
    /// </summary>
    public TimeSpan ShedInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how many clients, at most, are moved away every <see cref="ShedInterval"/> while the relay holds more
    /// than its connection limit. Default 10: 1,000 excess clients move in under two minutes, and the relays they move to
    /// see a trickle rather than a stampede.
    /// </summary>
    public int ShedBatchSize { get; set; } = 10;

    /// <summary>
    /// Gets or sets the time over which a stopping relay moves its clients away, a share every
    /// <see cref="ShedInterval"/>, so that a rolling restart does not send every client to the next relay at once. What
    /// is left at its end is ended at once. Keep it under the host's <c>HostOptions.ShutdownTimeout</c> (30 s by default),
    /// past which the server drops every connection. Default 10 s.
    /// </summary>
    public TimeSpan ShutdownDrainTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets what the relay asks, when it starts and every <see cref="FleetSizeInterval"/>, for the size of its
    /// pool (relays and clients: from a service registry, a Kubernetes endpoints and node count, DNS, …), so that it
    /// holds its share of the clients and a relay added to the pool takes load (see
    /// <see cref="RelayServerControl.SetFleetSize"/>). A failure leaves the share as it was. Default null: the limit is
    /// <see cref="MaxConnections"/> and whatever <see cref="RelayServerControl.SetMaxConnections"/> sets.
    /// </summary>
    public Func<CancellationToken, ValueTask<RelayFleetSize>>? FleetSizeSource { get; set; }

    /// <summary>
    /// Gets or sets how long after each answer (or failure) <see cref="FleetSizeSource"/> is asked again; at least 1 ms.
    /// Default 10 s.
    /// </summary>
    public TimeSpan FleetSizeInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets the room a relay's share leaves above an even split of the fleet's clients: the share is
    /// ⌈clients × (1 + slack) / relays⌉; from 0 to 100. Default 0.2, so the pool can take clients on the move (a relay restarting, one
    /// shedding) without refusing them, while a relay holding far more than the others moves its excess away.
    /// </summary>
    public double FleetSlack { get; set; } = 0.2;

    /// <summary>
    /// Gets or sets the smallest share of a fleet a relay holds, whatever the fleet's size says (a pool that reports few
    /// or no clients, as while it starts, must still take the ones that come). Default 100.
    /// </summary>
    public int MinFleetShare { get; set; } = 100;

    /// <summary>Gets or sets how often the relay pings each client. Default 10 s.</summary>
    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how long a client may go without answering (or sending anything) before it is dropped, plus the time
    /// to read at 256 KiB/s what was sent to it since it was last heard (its pong waits behind that). Default 30 s.
    /// </summary>
    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long a new connection has to send its hello. Default 10 s.</summary>
    public TimeSpan HelloTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how long one write to a client may stay blocked (the client stopped reading) before the client is
    /// cut off. Default 30 s.
    /// </summary>
    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets the bearer tokens the relay accepts (sent as <c>authorization: Bearer …</c>). Empty: tokens are not accepted.
    /// </summary>
    public ISet<string> BearerTokens { get; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>
    /// Gets or sets the check a client certificate must pass (the TLS handshake has already verified the chain against
    /// Kestrel's settings). Null: client certificates are not accepted as credentials.
    /// </summary>
    public Func<X509Certificate2, bool>? ClientCertificateValidator { get; set; }

    /// <summary>
    /// Gets or sets whether clients without credentials are served. Default false: a relay with neither tokens nor a
    /// certificate check refuses every client, so that anonymous access is always a deliberate choice.
    /// </summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>
    /// Gets or sets whether clients that ask for it (<c>RelaySyncerOptions.Compression</c>) are sent compressed chunks.
    /// Each shared chunk is compressed once, on first demand, and kept beside the plain one. Default true: a client
    /// that does not ask is sent plain bytes, and costs nothing more.
    /// </summary>
    public bool Compression { get; set; } = true;

    /// <summary>Gets or sets the clock for pings, timeouts and lag. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Checks the options, naming the first problem found.</summary>
    /// <exception cref="InvalidOperationException">The options are not valid.</exception>
    public void Validate()
    {
        static void Positive(TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero)
            {
                throw new InvalidOperationException($"{name} must be positive; it is {value}.");
            }
        }

        static void AtLeastAMillisecond(TimeSpan value, string name)
        {
            if (value < ShortestInterval)
            {
                throw new InvalidOperationException($"{name} must be at least {ShortestInterval.TotalMilliseconds} ms (a timer's period is in whole milliseconds); it is {value}.");
            }
        }

        if (Feeds.Count == 0)
        {
            throw new InvalidOperationException("A relay needs at least one feed.");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (RelayFeedOptions feed in Feeds)
        {
            if (string.IsNullOrEmpty(feed.Name) || !names.Add(feed.Name))
            {
                throw new InvalidOperationException($"Feed names must be non-empty and distinct; '{feed.Name}' is not.");
            }

            if (feed.Backend is null && feed.BackendFactory is null)
            {
                throw new InvalidOperationException($"Feed '{feed.Name}' needs a Backend or a BackendFactory.");
            }

            if (feed.ResourceTypes.Count == 0)
            {
                throw new InvalidOperationException($"Feed '{feed.Name}' needs at least one resource type.");
            }

            ArgumentNullException.ThrowIfNull(feed.Codec);
            ArgumentNullException.ThrowIfNull(feed.DatastoreEpoch);
        }

        if (MaxConnections < 1 || MaxLogEntries < 1 || MaxLogBytes < 1 || SnapshotChunkBytes < 1024)
        {
            throw new InvalidOperationException("MaxConnections, MaxLogEntries and MaxLogBytes must be positive, and SnapshotChunkBytes at least 1024.");
        }

        if (MaxLogEntries < MinLogEntries)
        {
            throw new InvalidOperationException($"MaxLogEntries must be at least {MinLogEntries}; it is {MaxLogEntries}.");
        }

        if (MaxValueBytes < 1024 || MaxValueBytes > MaxValueBytesLimit)
        {
            throw new InvalidOperationException($"MaxValueBytes must be between 1024 and {MaxValueBytesLimit}; it is {MaxValueBytes}.");
        }

        if (MaxSupersededSnapshots < 0)
        {
            throw new InvalidOperationException($"MaxSupersededSnapshots must not be negative; it is {MaxSupersededSnapshots}.");
        }

        if (MaxConcurrentSnapshots < 1)
        {
            throw new InvalidOperationException($"MaxConcurrentSnapshots must be at least 1; it is {MaxConcurrentSnapshots}.");
        }

        if (ShedBatchSize < 1)
        {
            throw new InvalidOperationException($"ShedBatchSize must be at least 1; it is {ShedBatchSize}.");
        }

        Positive(SnapshotAdmissionTimeout, nameof(SnapshotAdmissionTimeout));
        Positive(ShedInterval, nameof(ShedInterval));
        AtLeastAMillisecond(ShedInterval, nameof(ShedInterval));

        // A timer's period: longer would fail the relay's start with an ArgumentOutOfRangeException naming no option.
        if (ShedInterval > ConnectionShedder.LongestInterval)
        {
            throw new InvalidOperationException($"ShedInterval must be at most {ConnectionShedder.LongestInterval}; it is {ShedInterval}.");
        }

        Positive(ShutdownDrainTime, nameof(ShutdownDrainTime));
        Positive(FleetSizeInterval, nameof(FleetSizeInterval));
        AtLeastAMillisecond(FleetSizeInterval, nameof(FleetSizeInterval));
        if (FleetSizeInterval > ConnectionShedder.LongestInterval)
        {
            throw new InvalidOperationException($"FleetSizeInterval must be at most {ConnectionShedder.LongestInterval}; it is {FleetSizeInterval}.");
        }

        if (!double.IsFinite(FleetSlack) || FleetSlack < 0 || FleetSlack > MaxFleetSlack)
        {
            throw new InvalidOperationException($"FleetSlack must be a finite number from 0 to {MaxFleetSlack}; it is {FleetSlack}.");
        }

        if (MinFleetShare < 1)
        {
            throw new InvalidOperationException($"MinFleetShare must be at least 1; it is {MinFleetShare}.");
        }

        Positive(PingInterval, nameof(PingInterval));
        Positive(PingTimeout, nameof(PingTimeout));
        Positive(HelloTimeout, nameof(HelloTimeout));
        Positive(WriteTimeout, nameof(WriteTimeout));
        ArgumentNullException.ThrowIfNull(TimeProvider);
    }
}
