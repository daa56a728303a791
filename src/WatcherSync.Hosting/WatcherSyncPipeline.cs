using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WatcherSync.InMemory;

namespace WatcherSync.Hosting;

/// <summary>
/// The hosted syncer: one <see cref="SharedWatcherSyncer"/> with every registered sink as a handler behind a
/// <see cref="DedupeBuffer"/> of its own, so no sink ever holds up the syncer or another sink. Built once per service
/// provider, started and stopped by <see cref="WatcherSyncHostedService"/>, observed by the health check.
/// </summary>
/// <remarks>
/// State, guarded by <c>_sync</c>: <c>_state</c> moves Created → Running → Stopped (or Created → Stopped) and never
/// back. <c>_handlers</c> is empty until <see cref="Start"/> adds one per sink, then fixed. <c>_stopping</c> is set once,
/// by the first stop (drain or abort). Neither stop ever waits for a sink stuck in a call except the drain, which the
/// host cuts short with an abort when its shutdown timeout runs out.
/// </remarks>
internal sealed class WatcherSyncPipeline : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly List<(HostedSink Sink, SyncerHandlerOptions Options)> _sinks = [];
    private readonly List<SyncerHandlerRegistration> _handlers = [];
    private readonly TaskCompletionSource _sinkFailed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _sync = new();
    private readonly TimeSpan _unreachableDegradedAfter;
    private readonly string _backendName;
    private readonly int _resourceTypeCount;
    private Task? _stopping;
    private PipelineState _state;

    public WatcherSyncPipeline(IServiceProvider services, string name)
    {
        WatcherSyncOptions settings = services.GetRequiredService<IOptionsMonitor<WatcherSyncOptions>>().Get(name);
        WatcherSyncRegistrations registered = services.GetRequiredService<IOptionsMonitor<WatcherSyncRegistrations>>().Get(name);
        ILoggerFactory loggerFactory = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<WatcherSyncHostedService>();

        HostedSyncerSource? source = services.GetServices<HostedSyncerSource>().LastOrDefault(s => s.Name == name);
        ResourceType[] resourceTypes =
        [
            .. registered.ResourceTypes,
            .. settings.Prefixes.Select(static p => new ResourceType(new PrefixListOptions(p))),
        ];

        foreach (SinkRegistration registration in registered.Sinks)
        {
            var handlerOptions = new SyncerHandlerOptions
            {
                Buffer = new DedupeBufferOptions
                {
                    LoggerFactory = settings.Syncer.LoggerFactory,
                    MeterFactory = settings.Syncer.MeterFactory,
                },
            };
            registration.ConfigureBuffer?.Invoke(handlerOptions.Buffer);
            var sink = new HostedSink(registration.Factory(services), registration.Buffered, _logger, ex => _sinkFailed.TrySetException(ex));
            _sinks.Add((sink, handlerOptions));
        }

        SyncerName = settings.Syncer.Name;
        _unreachableDegradedAfter = settings.UnreachableDegradedAfter;
        if (source is null)
        {
            IBackendClient backend = services.GetRequiredService<IBackendClient>();
            Shared = new SharedWatcherSyncer(backend, resourceTypes, settings.Syncer);
            MaxEventAge = ResolveMaxEventAge(settings.MaxEventAge, backend, services);
            _backendName = backend.GetType().Name;
        }
        else
        {
            // The source's syncer has its own watchdog (a relay client's SilenceTimeout): MaxEventAge is a WatcherSyncer's.
            Shared = new SharedWatcherSyncer(
                callbacks => source.Create(services, resourceTypes, settings, callbacks),
                settings.Syncer);
            MaxEventAge = null;
            _backendName = source.Kind;
        }

        _resourceTypeCount = resourceTypes.Length;
    }

    /// <summary>Gets the shared syncer: the application may add handlers of its own at run time.</summary>
    public SharedWatcherSyncer Shared { get; }

    /// <summary>Gets the one syncer the sinks share: a <see cref="WatcherSyncer"/> on the datastore, or a source's (a relay client).</summary>
    public ISyncer Syncer => Shared.Syncer;

    /// <summary>Gets the syncer as the <see cref="WatcherSyncer"/> that lists and watches the datastore.</summary>
    /// <exception cref="InvalidOperationException">The syncer takes its picture from elsewhere (a relay).</exception>
    public WatcherSyncer DatastoreSyncer => Syncer as WatcherSyncer
        ?? throw new InvalidOperationException($"The hosted syncer '{SyncerName}' reads {_backendName}, not the datastore: resolve SharedWatcherSyncer (an ISyncer) instead of WatcherSyncer.");

    public string SyncerName { get; }

    /// <summary>Gets how long the datastore may go unheard before the stream counts as dead; null for no limit.</summary>
    public TimeSpan? MaxEventAge { get; }

    /// <summary>Gets a task that fails when a sink whose failure ends the service throws (and never completes otherwise).</summary>
    public Task SinkFailure => _sinkFailed.Task;

    public PipelineState State
    {
        get
        {
            lock (_sync)
            {
                return _state;
            }
        }
    }

    /// <summary>Adds every sink as a handler (each starts its own send loop), then starts the syncer.</summary>
    public void Start()
    {
        lock (_sync)
        {
            if (_state != PipelineState.Created)
            {
                throw new InvalidOperationException($"The WatcherSync pipeline cannot start: it is {_state}.");
            }

            _state = PipelineState.Running;
            HostingLog.Starting(_logger, SyncerName, _backendName, _resourceTypeCount, _sinks.Count);
            foreach ((HostedSink sink, SyncerHandlerOptions options) in _sinks)
            {
                SyncerHandlerRegistration registration = Shared.AddHandler(sink, options);
                sink.ReportTo(registration.Handler);
                _handlers.Add(registration);
            }

            Shared.Start();
        }
    }

    /// <summary>
    /// The drain stop: stops the syncer (each sink that implements <see cref="ISyncerStoppingCallbacks"/> is told, then,
    /// unless <see cref="WatcherSyncerOptions.DeleteOnStop"/> is off, every key is reported deleted), then lets every
    /// sink's buffer hand it what it holds. It takes as long as the slowest sink takes. Safe to call more than once, and
    /// <see cref="Abort"/> may cut it short.
    /// </summary>
    public Task StopAsync()
    {
        lock (_sync)
        {
            if (_stopping is null)
            {
                bool wasRunning = _state == PipelineState.Running;
                _state = PipelineState.Stopped;
                _stopping = wasRunning ? StopRunningAsync() : Task.CompletedTask;
            }

            return _stopping;
        }
    }

    /// <summary>
    /// The abort stop: stops every sink's buffer at once (what it holds is dropped; its send loop ends as soon as the
    /// call in progress, if any, returns, and nothing waits for that) and the syncer. Returns the syncer's stop, which no
    /// sink can hold up: sinks are never called on the syncer's loop. Safe to call more than once, also during a drain,
    /// which it cuts short.
    /// </summary>
    public Task Abort()
    {
        SyncerHandlerRegistration[] handlers;
        lock (_sync)
        {
            if (_state != PipelineState.Stopped)
            {
                _state = PipelineState.Stopped;
                _stopping ??= Task.CompletedTask;
            }

            handlers = [.. _handlers];
        }

        int dropping = 0;
        foreach (SyncerHandlerRegistration handler in handlers)
        {
            dropping += handler.Handler.Buffer.QueueLength > 0 ? 1 : 0;
            handler.Handler.Buffer.Stop();
        }

        if (dropping > 0)
        {
            HostingLog.Aborted(_logger, SyncerName, dropping);
        }

        // Ends each handler when its call in progress returns; not awaited, so a stuck sink holds nothing up.
        _ = Shared.StopAsync();
        return Syncer.StopAsync();
    }

    /// <summary>Aborts, then awaits the syncer's stop: returns promptly however long a sink stays stuck in a call.</summary>
    public async ValueTask DisposeAsync() => await Abort().ConfigureAwait(false);

    /// <summary>A snapshot for the health check.</summary>
    /// <remarks>The time since the last event and how long the datastore has been unreachable are a
    /// <see cref="WatcherSyncer"/>'s; another syncer (a relay client) reports zero and null: it has its own watchdog.</remarks>
    public WatcherSyncHealthSnapshot Snapshot()
    {
        var datastore = Syncer as WatcherSyncer;
        return new(
            SyncerName,
            State,
            Syncer.Status,
            Syncer.KeyCount,
            datastore?.TimeSinceLastEvent ?? TimeSpan.Zero,
            MaxEventAge,
            _sinkFailed.Task.Exception?.InnerException,
            datastore?.DatastoreUnreachableFor,
            _unreachableDegradedAfter,
            _sinks.Count,
            SinksSynced(),
            FirstSinkFailure(),
            Shared.LastSyncFailure);
    }

    /// <summary>The first sink (in registration order) that has thrown, with what it threw; null while none has.</summary>
    private (string Sink, Exception Error)? FirstSinkFailure()
    {
        foreach ((HostedSink sink, _) in _sinks)
        {
            if (sink.FirstFailure is { } error)
            {
                return (sink.Sink.GetType().Name, error);
            }
        }

        return null;
    }

    private static TimeSpan? ResolveMaxEventAge(TimeSpan? configured, IBackendClient backend, IServiceProvider services)
    {
        TimeSpan? age = configured ?? backend switch
        {
            InMemoryBackend inMemory => TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(30).Ticks, inMemory.BookmarkInterval.Ticks * 10)),
            _ => services.GetServices<HostedBackend>().Select(b => b.MaxEventAge(services, backend)).FirstOrDefault(a => a is not null),
        };
        return age == Timeout.InfiniteTimeSpan ? null : age;
    }

    private async Task StopRunningAsync()
    {
        // The syncer's stop queues its announcement and deletes in every buffer; the shared syncer then completes (not
        // stops) the buffers, so every sink is handed everything queued and ends holding nothing.
        await Shared.StopAsync().ConfigureAwait(false);
        HostingLog.Stopped(_logger, SyncerName);
    }

    private int SinksSynced()
    {
        lock (_sync)
        {
            return _handlers.Count(static h => h.HasSynced);
        }
    }
}

/// <summary>Where the hosted pipeline is in its life.</summary>
internal enum PipelineState
{
    /// <summary>Built, not started.</summary>
    Created,

    /// <summary>Started with the host.</summary>
    Running,

    /// <summary>Stopped with the host.</summary>
    Stopped,
}
