using System.Diagnostics.Metrics;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace WatcherSync.Etcd;

/// <summary>Options of an <see cref="EtcdBackendClient"/>. Checked once, when the client is created.</summary>
public sealed class EtcdClientOptions
{
    /// <summary>
    /// Gets or sets the client URLs of the etcd members, for example <c>http://127.0.0.1:2379</c>. Requests and
    /// watches move to the next one when a member fails. At least one is required.
    /// </summary>
    public IList<string> Endpoints { get; set; } = [];

    /// <summary>
    /// Gets or sets a namespace prepended to every key sent to etcd and removed from every key read back, like
    /// clientv3's namespace wrapper. Default: empty (no namespace).
    /// </summary>
    public string KeyPrefix { get; set; } = string.Empty;

    /// <summary>Gets or sets how values are stored. Default: <see cref="RawBytesCodec"/>.</summary>
    public IValueCodec Codec { get; set; } = RawBytesCodec.Instance;

    /// <summary>Gets or sets the user to authenticate as; null when etcd auth is off.</summary>
    public string? Username { get; set; }

    /// <summary>Gets or sets the password of <see cref="Username"/>. Never logged.</summary>
    public string? Password { get; set; }

    /// <summary>
    /// Gets or sets the certificate authorities that sign the members' server certificates (https endpoints). When
    /// set, only these roots are trusted; when null, the system's roots are.
    /// </summary>
    public X509Certificate2Collection? TrustedCertificateAuthorities { get; set; }

    /// <summary>Gets or sets the client certificate (with its private key) presented to members that require one.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>Gets or sets the deadline of one request to one member (connect included). Default: 10 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how many keys one page of a list asks for. Default: 100,000. On etcd 3.4 a range with a limit
    /// costs more than one without (100,000 keys of 200 B in pages of 10,000: about 1.6 times etcd's CPU and twice the
    /// wall time of one page), so pages are large; a page over the 64 MB receive limit is asked for again in halves,
    /// which keeps the memory of one page bounded whatever the size of the values.
    /// </summary>
    public int ListPageSize { get; set; } = 100_000;

    /// <summary>
    /// Gets or sets the server's progress-notification interval (etcd's
    /// <c>--experimental-watch-progress-notify-interval</c>, 10 minutes unless changed). A watch that hears nothing
    /// for this long plus <see cref="WatchdogSlack"/> is treated as dead. <see cref="Timeout.InfiniteTimeSpan"/>
    /// turns the watchdog off. Default: 10 min.
    /// </summary>
    public TimeSpan ProgressNotifyInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Gets or sets the silence tolerated beyond <see cref="ProgressNotifyInterval"/>. Default: 30 s.</summary>
    public TimeSpan WatchdogSlack { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how long a watch whose stream broke keeps reconnecting (to every endpoint in turn, from the last
    /// revision it delivered) before it reports a transient error. Zero reports the first break. Default: 15 s.
    /// </summary>
    public TimeSpan WatchReconnectTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Gets or sets how a watch whose stream broke spaces its reconnects within <see cref="WatchReconnectTimeout"/>:
    /// each waits <c>uniform(0, min(InitialDelay × Factor^n, MaxDelay))</c>, so that the watches of a fleet broken by
    /// one etcd restart come back spread over the window rather than in step. A healthy stream starts it again.
    /// Default: 800 ms, factor 3, 30 s cap (client-go's first window and cap, with a faster growth): a broken member is
    /// left for another within 800 ms, and while every endpoint stays down the windows grow, so that a fleet whose etcd
    /// restarts comes back spread over the cap rather than in the same instant (measured: a fleet of 200 watches through
    /// a 10 s restart reaches etcd at 17-19 streams a second at most, against 200 in one second with fixed intervals,
    /// and 26-33 with factor 2). A rejoin that succeeds after <see cref="WatchReconnectTimeout"/> still resumes without
    /// a relist (the timeout is checked after a failed rejoin).
    /// </summary>
    public BackoffOptions WatchReconnectBackoff { get; set; } = new() { Factor = 3 };

    /// <summary>Gets or sets the TTL of the lease that lives as long as the client (kept alive at a third of it). Default: 30 s.</summary>
    public TimeSpan ClientLeaseTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets the largest gRPC message received (64 MB). Internal: tests lower it to reach the limit with small
    /// data; lists halve their page and watches rely on etcd's fragmentation to stay under it.
    /// </summary>
    internal int MaxReceiveMessageBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Gets or sets the options of the syncers made by <see cref="EtcdBackendClient.CreateSyncer"/>; null for the defaults.</summary>
    public WatcherSyncerOptions? SyncerOptions { get; set; }

    /// <summary>Gets or sets the clock for every timeout, keepalive and watchdog. Default: <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets the logger factory; null for no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Gets or sets the meter factory that creates the <c>WatcherSync</c> meter; null for a meter of its own.</summary>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>Checks every option and throws one exception that lists every problem found.</summary>
    /// <exception cref="ArgumentException">At least one option is invalid.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        if (Endpoints is null || Endpoints.Count == 0)
        {
            problems.Add("Endpoints: at least one etcd client URL is required (for example http://127.0.0.1:2379).");
        }
        else
        {
            foreach (string endpoint in Endpoints)
            {
                if (!Uri.TryCreate(endpoint, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
                {
                    problems.Add($"Endpoints: '{endpoint}' is not an absolute http:// or https:// URL.");
                }
                else if (uri.PathAndQuery != "/" || !string.IsNullOrEmpty(uri.UserInfo))
                {
                    problems.Add($"Endpoints: '{endpoint}' must be scheme://host:port only (no path, query or credentials).");
                }
            }
        }

        if (KeyPrefix is null)
        {
            problems.Add("KeyPrefix: must not be null (use an empty string for no namespace).");
        }

        if (Codec is null)
        {
            problems.Add("Codec: must not be null.");
        }

        if (string.IsNullOrEmpty(Username) != string.IsNullOrEmpty(Password))
        {
            problems.Add("Username/Password: give both or neither.");
        }

        if (ClientCertificate is { HasPrivateKey: false })
        {
            problems.Add("ClientCertificate: the certificate has no private key.");
        }

        if (RequestTimeout <= TimeSpan.Zero && RequestTimeout != Timeout.InfiniteTimeSpan)
        {
            problems.Add($"RequestTimeout: must be positive, not {RequestTimeout}.");
        }

        if (ListPageSize < 1)
        {
            problems.Add($"ListPageSize: must be at least 1, not {ListPageSize}.");
        }

        if (ProgressNotifyInterval <= TimeSpan.Zero && ProgressNotifyInterval != Timeout.InfiniteTimeSpan)
        {
            problems.Add($"ProgressNotifyInterval: must be positive or Timeout.InfiniteTimeSpan, not {ProgressNotifyInterval}.");
        }

        if (WatchdogSlack < TimeSpan.Zero)
        {
            problems.Add($"WatchdogSlack: must not be negative, not {WatchdogSlack}.");
        }

        if (WatchReconnectTimeout < TimeSpan.Zero)
        {
            problems.Add($"WatchReconnectTimeout: must not be negative, not {WatchReconnectTimeout}.");
        }

        if (WatchReconnectBackoff is null)
        {
            problems.Add("WatchReconnectBackoff: must be set.");
        }
        else
        {
            try
            {
                WatchReconnectBackoff.Validate();
            }
            catch (ArgumentOutOfRangeException ex)
            {
                problems.Add($"WatchReconnectBackoff.{ex.ParamName}: {ex.Message.Split(" (Parameter", 2)[0]}");
            }
        }

        if (ClientLeaseTtl < TimeSpan.FromSeconds(2))
        {
            problems.Add($"ClientLeaseTtl: must be at least 2 s (etcd's shortest lease), not {ClientLeaseTtl}.");
        }

        if (TimeProvider is null)
        {
            problems.Add("TimeProvider: must not be null.");
        }

        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid etcd client options:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => "  - " + p)));
        }
    }
}
