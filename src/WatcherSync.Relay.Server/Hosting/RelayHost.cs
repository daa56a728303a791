using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace WatcherSync.Relay.Server;

/// <summary>Owns the relay's feeds and connections: starts the feeds with the host and stops them before it ends.</summary>
internal sealed class RelayHost : IHostedService, IAsyncDisposable
{
    private readonly IServiceProvider _services;
    private readonly Dictionary<string, RelayFeed> _feeds = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private int _state;
    private FleetSizePoller? _fleetSize;

    public RelayHost(IOptions<RelayServerOptions> options, IServiceProvider services, ILoggerFactory? loggerFactory = null, IMeterFactory? meterFactory = null, IHostApplicationLifetime? lifetime = null)
    {
        Options = options.Value;
        Options.Validate();
        _services = services;
        Logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("WatcherSync.Relay.Server");
        Connections = new RelayConnections(Options);
        Admission = new SnapshotAdmission(Options.MaxConcurrentSnapshots);
        Shedder = new ConnectionShedder(Connections, Options, Logger);
        Limit = new ConnectionLimit(Shedder, Options);
        Metrics = new RelayServerMetrics(meterFactory, Connections, Admission);

        // The server drains requests before hosted services stop, and a subscription never ends by itself: as soon as
        // the application starts stopping, move the clients away, a share at a time over ShutdownDrainTime, so that a
        // rolling restart does not send them all to the next relay at once; at its end, end whatever is left.
        lifetime?.ApplicationStopping.Register(static state => ((RelayHost)state!).Drain(), this);
        foreach (RelayFeedOptions feed in Options.Feeds)
        {
            _feeds.Add(feed.Name, new RelayFeed(feed, Options, Logger, Metrics));
        }
    }

    public RelayServerOptions Options { get; }

    public ILogger Logger { get; }

    public RelayServerMetrics Metrics { get; }

    public RelayConnections Connections { get; }

    public SnapshotAdmission Admission { get; }

    public ConnectionShedder Shedder { get; }

    public ConnectionLimit Limit { get; }

    public CancellationToken Stopping => _stopping.Token;

    public IEnumerable<string> FeedNames => _feeds.Keys;

    public IEnumerable<RelayFeed> Feeds => _feeds.Values;

    /// <summary>Gets whether the feeds are running (started and not stopped).</summary>
    public bool IsRunning => Volatile.Read(ref _state) == 1;

    public bool TryGetFeed(string name, [NotNullWhen(true)] out RelayFeed? feed) => _feeds.TryGetValue(name, out feed);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            return Task.CompletedTask;
        }

        foreach (RelayFeedOptions options in Options.Feeds)
        {
            IBackendClient backend = options.Backend ?? options.BackendFactory!(_services);
            RelayFeed feed = _feeds[options.Name];
            feed.Start(backend, options);
            RelayServerLog.FeedStarted(Logger, feed.Name, string.Join(", ", feed.Prefixes));
        }

        if (Options.FleetSizeSource is { } source)
        {
            _fleetSize = new FleetSizePoller(source, Limit, Options, Logger);
        }

        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _state, 2) != 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_fleetSize is { } fleetSize)
        {
            await fleetSize.DisposeAsync().ConfigureAwait(false);
        }

        Shedder.Dispose();
        await Task.WhenAll(_feeds.Values.Select(f => f.StopAsync())).ConfigureAwait(false);
        RelayServerLog.FeedsStopped(Logger);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        Shedder.Dispose();
        Metrics.Dispose();
        _stopping.Dispose();
    }

    private void Drain() => Shedder.BeginDrain(() =>
    {
        try
        {
            _stopping.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    });
}
