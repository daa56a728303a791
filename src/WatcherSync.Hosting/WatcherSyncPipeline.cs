using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WatcherSync.Etcd;
using WatcherSync.InMemory;

namespace WatcherSync.Hosting;

/// <summary>
/// The hosted syncer with its sinks and the dedupe buffers in front of the buffered ones: built once per service
/// provider, started and stopped by <see cref="WatcherSyncHostedService"/>, observed by the health check.
/// </summary>
internal sealed class WatcherSyncPipeline : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly List<(DedupeBuffer Buffer, ISyncerCallbacks Sink)> _buffered = [];
    private readonly TaskCompletionSource _sinkFailed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _sync = new();
    private readonly TimeSpan _unreachableDegradedAfter;
    private readonly string _backendName;
    private readonly int _resourceTypeCount;
    private readonly int _sinkCount;
    private Task _sendLoops = Task.CompletedTask;
    private Task? _stopping;
    private PipelineState _state;

    // Set once by Abandon (under _sync), never cleared: the host gave up stopping, so DisposeAsync does not await the
    // syncer's stop, which a direct sink stuck in a call holds for as long as the call lasts.
    private bool _abandoned;

    public WatcherSyncPipeline(IServiceProvider services, IOptions<WatcherSyncOptions> options, IOptions<WatcherSyncRegistrations> registrations)
    {
        WatcherSyncOptions settings = options.Value;
        WatcherSyncRegistrations registered = registrations.Value;
        ILoggerFactory loggerFactory = services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<WatcherSyncHostedService>();

        IBackendClient backend = services.GetRequiredService<IBackendClient>();
        ResourceType[] resourceTypes =
        [
            .. registered.ResourceTypes,
            .. settings.Prefixes.Select(static p => new ResourceType(new PrefixListOptions(p))),
        ];

        var targets = new List<FanOutTarget>(registered.Sinks.Count);
        foreach (SinkRegistration registration in registered.Sinks)
        {
            ISyncerCallbacks sink = registration.Factory(services);
            if (!registration.Buffered)
            {
                targets.Add(new FanOutTarget(sink, sink));
                continue;
            }

            var bufferOptions = new DedupeBufferOptions
            {
                LoggerFactory = settings.Syncer.LoggerFactory,
                MeterFactory = settings.Syncer.MeterFactory,
            };
            registration.ConfigureBuffer?.Invoke(bufferOptions);
            var buffer = new DedupeBuffer(bufferOptions);
            _buffered.Add((buffer, sink));
            targets.Add(new FanOutTarget(buffer, sink));
        }

        Syncer = new WatcherSyncer(backend, resourceTypes, new FanOutCallbacks(targets, _logger), settings.Syncer);
        SyncerName = settings.Syncer.Name;
        MaxEventAge = ResolveMaxEventAge(settings.MaxEventAge, backend, services);
        _unreachableDegradedAfter = settings.UnreachableDegradedAfter;
        _backendName = backend.GetType().Name;
        _resourceTypeCount = resourceTypes.Length;
        _sinkCount = targets.Count;
    }

    public WatcherSyncer Syncer { get; }

    public string SyncerName { get; }

    /// <summary>Gets how long the datastore may go unheard before the stream counts as dead; null for no limit.</summary>
    public TimeSpan? MaxEventAge { get; }

    /// <summary>Gets a task that fails when a buffered sink fails (and never completes otherwise).</summary>
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

    /// <summary>Starts the buffers' send loops, then the syncer.</summary>
    public void Start()
    {
        lock (_sync)
        {
            if (_state != PipelineState.Created)
            {
                throw new InvalidOperationException($"The WatcherSync pipeline cannot start: it is {_state}.");
            }

            _state = PipelineState.Running;
            HostingLog.Starting(_logger, SyncerName, _backendName, _resourceTypeCount, _sinkCount);
            _sendLoops = Task.WhenAll(_buffered.Select(b => Task.Run(() => SendAsync(b.Buffer, b.Sink))));
            Syncer.Start();
        }
    }

    /// <summary>
    /// The drain stop: stops the syncer (which reports every key it held as deleted), then lets the buffers hand what
    /// they hold to their sinks and end. It takes as long as the sinks take. Safe to call more than once, and
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
    /// The abort stop: stops the buffers at once (what they hold is dropped, and a send loop ends as soon as the sink
    /// call in progress returns) and the syncer, without waiting for any buffered sink. Returns the syncer's stop (its
    /// deletes still reach the direct sinks; the stopped buffers ignore them). Safe to call more than once, also during
    /// a drain, which it cuts short.
    /// </summary>
    public Task Abort()
    {
        lock (_sync)
        {
            if (_state != PipelineState.Stopped)
            {
                _state = PipelineState.Stopped;
                _stopping ??= Task.CompletedTask;
            }
        }

        int dropping = 0;
        foreach ((DedupeBuffer buffer, _) in _buffered)
        {
            dropping += buffer.QueueLength > 0 ? 1 : 0;
            buffer.Stop();
        }

        if (dropping > 0)
        {
            HostingLog.Aborted(_logger, SyncerName, dropping);
        }

        return Syncer.StopAsync();
    }

    /// <summary>
    /// The host's shutdown timeout ran out: aborts, and abandons the syncer's stop. A direct sink runs on the syncer's
    /// loop, so one stuck in a call holds the stop until the call returns; nothing awaits it any more (a fault of it is
    /// logged), <see cref="DisposeAsync"/> returns at once, and the stop's deletes reach the direct sinks only if and
    /// when the stuck call returns. Safe to call more than once.
    /// </summary>
    public void Abandon()
    {
        lock (_sync)
        {
            if (_abandoned)
            {
                return;
            }

            _abandoned = true;
        }

        Task stop = Abort();
        if (!stop.IsCompleted)
        {
            HostingLog.Abandoned(_logger, SyncerName);
        }

        _ = stop.ContinueWith(
            static (t, state) =>
            {
                var pipeline = (WatcherSyncPipeline)state!;
                HostingLog.AbandonedStopFailed(pipeline._logger, pipeline.SyncerName, t.Exception!.InnerException ?? t.Exception);
            },
            this,
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>
    /// Abort, then await the syncer's stop (unless <see cref="Abandon"/> gave it up): returns however long a buffered
    /// sink stays stuck in a call (its send loop is not awaited; it ends by itself when the call returns, and delivers
    /// nothing more). After <see cref="Abandon"/> it returns at once even when a direct sink is stuck.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        Task stop = Abort();
        bool abandoned;
        lock (_sync)
        {
            abandoned = _abandoned;
        }

        if (!abandoned)
        {
            await stop.ConfigureAwait(false);
        }

        foreach ((DedupeBuffer buffer, _) in _buffered)
        {
            buffer.Dispose();
        }
    }

    /// <summary>A snapshot for the health check.</summary>
    public WatcherSyncHealthSnapshot Snapshot() => new(
        SyncerName,
        State,
        Syncer.Status,
        Syncer.KeyCount,
        Syncer.TimeSinceLastEvent,
        MaxEventAge,
        _sinkFailed.Task.Exception?.InnerException,
        Syncer.DatastoreUnreachableFor,
        _unreachableDegradedAfter);

    private static TimeSpan? ResolveMaxEventAge(TimeSpan? configured, IBackendClient backend, IServiceProvider services)
    {
        TimeSpan? age = configured ?? backend switch
        {
            InMemoryBackend inMemory => TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(30).Ticks, inMemory.BookmarkInterval.Ticks * 10)),
            EtcdBackendClient => services.GetRequiredService<IOptions<EtcdClientOptions>>().Value is { } etcd
                && etcd.ProgressNotifyInterval != Timeout.InfiniteTimeSpan
                    ? etcd.ProgressNotifyInterval + etcd.WatchdogSlack
                    : null,
            _ => null,
        };
        return age == Timeout.InfiniteTimeSpan ? null : age;
    }

    private async Task StopRunningAsync()
    {
        // The stop's deletes are queued in the buffers; completing (not stopping) them hands those to the buffered
        // sinks too, so every sink ends holding nothing. A host whose shutdown timeout runs out disposes the pipeline,
        // which stops the buffers and drops what is left.
        await Syncer.StopAsync().ConfigureAwait(false);
        foreach ((DedupeBuffer buffer, _) in _buffered)
        {
            buffer.Complete();
        }

        await _sendLoops.ConfigureAwait(false);
        HostingLog.Stopped(_logger, SyncerName);
    }

    private async Task SendAsync(DedupeBuffer buffer, ISyncerCallbacks sink)
    {
        try
        {
            await buffer.SendToSinkForeverAsync(sink).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The failure is handed to the hosted service through SinkFailure.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            HostingLog.BufferedSinkFailed(_logger, sink.GetType().Name, ex);
            _sinkFailed.TrySetException(ex);
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
