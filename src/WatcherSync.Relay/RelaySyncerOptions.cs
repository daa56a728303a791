using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace WatcherSync.Relay;

/// <summary>Options of a <see cref="RelaySyncer"/>: where the relays are, which feed, credentials and timings.</summary>
public sealed class RelaySyncerOptions
{
    /// <summary>
    /// Gets the relay endpoints (<c>http://</c> for h2c, <c>https://</c> for TLS). The syncer starts at a random one and
    /// moves on to the next whenever a connection fails or breaks. At least one is required.
    /// </summary>
    public IList<Uri> Endpoints { get; } = [];

    /// <summary>Gets or sets the feed to subscribe to. Default <c>default</c>.</summary>
    public string Feed { get; set; } = "default";

    /// <summary>Gets the prefixes of the feed to narrow the subscription to; empty (the default) for the whole feed.</summary>
    public IList<string> Prefixes { get; } = [];

    /// <summary>Gets or sets the name the client gives in its hello, for the relay's logs. Default: the machine name.</summary>
    public string ClientName { get; set; } = Environment.MachineName;

    /// <summary>Gets or sets the codec that turns the relayed bytes into values. Default <see cref="RawBytesCodec"/> (values are <see cref="T:byte[]"/>).</summary>
    public IValueCodec Codec { get; set; } = RawBytesCodec.Instance;

    /// <summary>Gets or sets how keys are rebuilt from their serialized form. Default: <see cref="PathKey"/>.</summary>
    public Func<string, IKey> KeyParser { get; set; } = static path => new PathKey(path);

    /// <summary>Gets or sets the bearer token sent to the relays (never logged). Null: none.</summary>
    public string? BearerToken { get; set; }

    /// <summary>Gets or sets the client certificate presented to relays over TLS. Null: none.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>
    /// Gets or sets the check of the relay's certificate; null for the platform's default validation. Use it to trust
    /// a private certificate authority.
    /// </summary>
    public RemoteCertificateValidationCallback? ServerCertificateValidation { get; set; }

    /// <summary>
    /// Gets or sets the ceiling of the first reconnect's delay; each failure in a row doubles it up to
    /// <see cref="MaxReconnectDelay"/>, and each delay is drawn below the ceiling (full jitter, as the direct syncer's
    /// <see cref="BackoffOptions"/>), so that a fleet cut off together does not come back together. Default 100 ms.
    /// </summary>
    public TimeSpan MinReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Gets or sets the longest reconnect delay, at most ~49.7 days (what a timer can wait). Default 10 s.</summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how long the relay may stay silent (no data, no ping) before the connection is dropped and another
    /// relay tried. At least three of the relay's ping intervals are allowed whatever this says. At most ~49.7 days. Default 30 s.
    /// </summary>
    public TimeSpan SilenceTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how long the syncer may go without any relay before it reports
    /// <see cref="SyncStatus.WaitForDatastore"/> (and calls <see cref="ISyncFailCallbacks.SyncFailed"/>). Until then it
    /// keeps its last status, as a direct syncer does while it retries its watch. Default 1 min.
    /// </summary>
    public TimeSpan DisconnectedTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets the most updates handed to one <see cref="ISyncerCallbacks.OnUpdates"/> call. Default 1000.</summary>
    public int MaxUpdatesPerBatch { get; set; } = 1000;

    /// <summary>
    /// Gets or sets whether the client asks relays for compressed batches (Brotli). A relay that has compression on sends
    /// each shared chunk in a compressed form it made once for all its clients, where that saves at least an eighth;
    /// the client decompresses them, each at most to the largest message it accepts (64 MiB). It trades the client's
    /// CPU for bytes on the wire: worth it across zones or over metered links, not on a local network (docs/relay.md,
    /// "Compression"). Default false.
    /// </summary>
    public bool Compression { get; set; }

    /// <summary>Gets or sets the clock for timeouts and backoff. Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets the logger factory; null for no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Gets or sets the meter factory for the <c>WatcherSync</c> meter; null for a meter of its own.</summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; set; }

    /// <summary>Checks the options, naming the first problem found.</summary>
    /// <exception cref="InvalidOperationException">The options are not valid.</exception>
    public void Validate()
    {
        if (Endpoints.Count == 0)
        {
            throw new InvalidOperationException("At least one relay endpoint is needed.");
        }

        foreach (Uri endpoint in Endpoints)
        {
            if (endpoint is null || !endpoint.IsAbsoluteUri || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
            {
                throw new InvalidOperationException($"Relay endpoints must be absolute http:// or https:// addresses; '{endpoint}' is not.");
            }
        }

        if (string.IsNullOrEmpty(Feed))
        {
            throw new InvalidOperationException("A feed name is needed.");
        }

        if (MinReconnectDelay <= TimeSpan.Zero || MaxReconnectDelay < MinReconnectDelay)
        {
            throw new InvalidOperationException("MinReconnectDelay must be positive and at most MaxReconnectDelay.");
        }

        if (SilenceTimeout <= TimeSpan.Zero || DisconnectedTimeout <= TimeSpan.Zero || MaxUpdatesPerBatch < 1)
        {
            throw new InvalidOperationException("SilenceTimeout, DisconnectedTimeout and MaxUpdatesPerBatch must be positive.");
        }

        // Timers and timeouts of the framework wait at most 2^32 - 2 ms (~49.7 days): a longer delay would fail every
        // connection attempt (ArgumentOutOfRangeException) instead of waiting.
        foreach ((string name, TimeSpan value) in (ReadOnlySpan<(string, TimeSpan)>)[(nameof(SilenceTimeout), SilenceTimeout), (nameof(MaxReconnectDelay), MaxReconnectDelay)])
        {
            if (value > MaxTimerDelay)
            {
                throw new InvalidOperationException($"{name} ({value}) is longer than a timer can wait ({MaxTimerDelay.TotalDays:0.#} days).");
            }
        }

        ArgumentNullException.ThrowIfNull(Codec);
        ArgumentNullException.ThrowIfNull(KeyParser);
        ArgumentNullException.ThrowIfNull(TimeProvider);
    }

    /// <summary>The longest delay the framework's timers take: 2^32 - 2 milliseconds.</summary>
    private static readonly TimeSpan MaxTimerDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>
    /// Gets or sets whether <see cref="RelaySyncer.StopAsync"/> reports every key the consumer holds as Deleted. Turn it
    /// off for a sink that persists the picture across restarts; callbacks implementing
    /// <see cref="ISyncerStoppingCallbacks"/> are told of the stop either way. Default: true.
    /// </summary>
    public bool DeleteOnStop { get; set; } = true;
}
