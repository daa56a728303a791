using System.Diagnostics;
using WatcherSync.InMemory;

namespace WatcherSync.Cli.Demo;

/// <summary>
/// The demo: an in-memory datastore loaded with keys; writers creating, updating and deleting keys (with bursts on
/// hot keys); a <see cref="WatcherSyncer"/> over four prefixes feeding a <see cref="DedupeBuffer"/> in front of a
/// deliberately slow sink; a follower of the failed pods; optionally a compactor forcing relists. When the writers
/// stop it waits, with a deadline, for the sink and the follower to converge, and checks both against the store.
/// </summary>
internal sealed class DemoRun : IAsyncDisposable
{
    private const string SyncerName = "demo";
    private const string FollowerSyncerName = "demo-follower";

    /// <summary>The syncer's batch limit; small enough that a compaction burst outgrows what the syncer can buffer.</summary>
    private const int SyncerBatch = 200;

    /// <summary>
    /// Writes per compaction round: more than the syncer can hold while its callbacks are stalled (its channel of 64
    /// batches, one batch per cache being built and the batch in the stalled callback), so some watch is left behind.
    /// </summary>
    private const int CompactionBurst = 4 * (64 + 8) * SyncerBatch;

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly DemoSettings _settings;
    private readonly CliConsole _console;
    private readonly TextWriter? _json;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly DemoMeters _meters = new();
    private readonly CancellationTokenSource _teardown = new();
    private readonly InMemoryBackend _store;
    private readonly KeySpace _keys;
    private readonly WriteCounters _writes = new();
    private readonly DedupeBuffer _buffer = new();
    private readonly SyncerTap _tap;
    private readonly SlowSink _sink;
    private readonly WatcherSyncer _syncer;
    private readonly DemoFollower _follower = new();
    private readonly DemoWriter[] _writers;
    private readonly DemoCompactor? _compactor;
    private volatile string _phase = "loading";
    private Task _sinkTask = Task.CompletedTask;
    private Task _followerTask = Task.CompletedTask;
    private bool _started;

    private DemoRun(DemoSettings settings, CliConsole console, TextWriter? json)
    {
        _settings = settings;
        _console = console;
        _json = json;
        _store = new InMemoryBackend(new InMemoryBackendOptions
        {
            HistoryCapacity = settings.HistoryCapacity,

            // The follower's syncer is made by the store: name it so its relists are counted apart.
            SyncerOptions = new WatcherSyncerOptions { Name = FollowerSyncerName, MeterFactory = _meters },
        });
        _keys = new KeySpace(settings.Keys);
        _tap = new SyncerTap(_buffer, _clock, () => _buffer.QueueLength);
        _sink = new SlowSink(settings.SinkDelay, _teardown.Token);
        _syncer = new WatcherSyncer(
            _store,
            KeySpace.WatchedPrefixes.Select(p => new ResourceType(new PrefixListOptions(p))),
            _tap,
            new WatcherSyncerOptions { Name = SyncerName, MeterFactory = _meters, MaxUpdatesPerBatch = SyncerBatch });
        _writers = [.. Enumerable.Range(0, settings.Writers).Select(i => new DemoWriter(_store, _keys, i, settings.Writers, settings.Seed, _writes))];
        if (settings.CompactEvery is { } every)
        {
            _compactor = new DemoCompactor(_store, _tap, _writes, every, CompactionBurst);
        }
    }

    /// <summary>Runs the demo and returns the exit code: 0 when the sink and the follower match the datastore.</summary>
    /// <param name="settings">What to run.</param>
    /// <param name="console">Where the intro, the progress and the summary go.</param>
    /// <param name="json">Where the result goes as one JSON document (<c>--json</c>); null for none.</param>
    /// <param name="cancellationToken">Ctrl+C.</param>
    public static async Task<int> RunAsync(DemoSettings settings, CliConsole console, TextWriter? json, CancellationToken cancellationToken)
    {
        await using var run = new DemoRun(settings, console, json);
        return await run.ExecuteAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _buffer.Stop();
        await _teardown.CancelAsync();
        if (_started)
        {
            await _syncer.StopAsync();
            await IgnoreCancellation(_sinkTask);
            await IgnoreCancellation(_followerTask);
        }

        await _store.DisposeAsync();
        _buffer.Dispose();
        _tap.Dispose();
        _meters.Dispose();
        _teardown.Dispose();
    }

    private async Task<int> ExecuteAsync(CancellationToken cancellationToken)
    {
        await _console.Out.WriteLineAsync(Intro());
        foreach (DemoWriter writer in _writers)
        {
            await writer.LoadAsync(cancellationToken);
        }

        _started = true;
        _sinkTask = _buffer.SendToSinkForeverAsync(_sink, _teardown.Token);
        _syncer.Start();
        _followerTask = _follower.RunAsync(_store, _teardown.Token);

        using var progressStop = new CancellationTokenSource();
        Task progress = DemoProgress.RunAsync(_console, Snapshot, _settings.ProgressInterval, progressStop.Token);
        TimeSpan writing;
        TimeSpan draining;
        bool converged;
        try
        {
            _phase = "writing";
            await WriteAsync(cancellationToken);
            writing = _clock.Elapsed;
            _phase = "draining";
            converged = await WaitForConvergenceAsync(DrainDeadline());
            draining = _clock.Elapsed - writing;
            _phase = "done";
        }
        finally
        {
            await progressStop.CancelAsync();
            await progress;
        }

        DemoReport report = await ReportAsync(writing, draining);
        DemoSummary.Write(_console.Out, report);
        if (_json is not null)
        {
            DemoJson.Write(_json, report);
        }
        if (report.Passed)
        {
            return ExitCodes.Success;
        }

        string reason = !report.Mirror.Matches ? $"the sink's picture does not match the datastore: {report.Mirror}"
            : !report.FollowerView.Matches ? $"the follower's view does not match the datastore: {report.FollowerView}"
            : $"the sink was handed {report.WrongTypes} updates of the wrong type, e.g. {report.FirstWrongType}";
        string when = converged ? string.Empty : $" (still not converged {DrainDeadline().TotalSeconds:0} s after the writers stopped)";
        throw new CliException($"demo check failed: {reason}{when}");
    }

    /// <summary>Runs the writers (and the compactor) until the duration ends or Ctrl+C; fails early if the sink or the follower fails.</summary>
    private async Task WriteAsync(CancellationToken cancellationToken)
    {
        using var stopWriting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (_settings.Duration is { } duration)
        {
            stopWriting.CancelAfter(duration);
        }

        var tasks = _writers.Select(w => w.RunAsync(stopWriting.Token)).ToList();
        if (_compactor is not null)
        {
            tasks.Add(_compactor.RunAsync(stopWriting.Token));
        }

        Task writing = Task.WhenAll(tasks);
        Task first = await Task.WhenAny(writing, _sinkTask, _followerTask);
        if (first != writing)
        {
            await stopWriting.CancelAsync();
            await writing;
            await first;
            throw new CliException("the demo's consumers stopped before the writers did");
        }

        await writing;
    }

    /// <summary>Waits until the sink and the follower match the datastore, or the deadline passes.</summary>
    private async Task<bool> WaitForConvergenceAsync(TimeSpan deadline)
    {
        var limit = Stopwatch.StartNew();
        while (true)
        {
            ThrowIfConsumerFailed();
            if (_tap.Status == SyncStatus.InSync && _buffer.QueueLength == 0 && _sink.Status == SyncStatus.InSync)
            {
                Dictionary<string, KVPair> truth = await ListWatchedAsync();
                if (PictureComparison.Compare(truth, _sink.Snapshot()).Matches
                    && PictureComparison.Compare(FailedPods(truth), _follower.Snapshot()).Matches)
                {
                    return true;
                }
            }

            if (limit.Elapsed > deadline)
            {
                return false;
            }

            await Task.WhenAny(Task.Delay(PollInterval, TimeProvider.System), _sinkTask, _followerTask);
        }
    }

    private void ThrowIfConsumerFailed()
    {
        if (_sinkTask.IsCompleted)
        {
            _sinkTask.GetAwaiter().GetResult();
            throw new CliException("the dedupe buffer stopped sending to the sink");
        }

        if (_followerTask.IsCompleted)
        {
            _followerTask.GetAwaiter().GetResult();
            throw new CliException("the follower stopped");
        }
    }

    private TimeSpan DrainDeadline() =>
        TimeSpan.FromSeconds(30) + _settings.SinkDelay * ((_keys.Slots / 100) + 1);

    private async Task<Dictionary<string, KVPair>> ListWatchedAsync()
    {
        var truth = new Dictionary<string, KVPair>(StringComparer.Ordinal);
        foreach (string prefix in KeySpace.WatchedPrefixes)
        {
            KVPairList list = await _store.ListAsync(new PrefixListOptions(prefix));
            foreach (KVPair pair in list.KVPairs)
            {
                truth[pair.Key.DefaultPath] = pair;
            }
        }

        return truth;
    }

    private static Dictionary<string, KVPair> FailedPods(Dictionary<string, KVPair> truth) =>
        truth.Where(p => DemoValues.IsFailedPod(p.Value)).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    private async Task<DemoReport> ReportAsync(TimeSpan writing, TimeSpan draining)
    {
        Dictionary<string, KVPair> truth = await ListWatchedAsync();
        return new DemoReport
        {
            Settings = _settings,
            Writing = writing,
            Draining = draining,
            Total = _clock.Elapsed,
            Revision = _store.Revision,
            UnwatchedKeys = _store.Count - truth.Count,
            Writes = _writes,
            UpdatesIn = _tap.UpdatesIn,
            SyncerBatches = _tap.Batches,
            UpdatesOut = _sink.UpdatesReceived,
            SinkBatches = _sink.Batches,
            LargestSinkBatch = _sink.LargestBatch,
            Coalesced = _buffer.UpdatesCoalesced,
            PeakQueue = _tap.PeakQueueLength,
            Relists = _meters.Relists(SyncerName),
            WatchRestarts = _meters.WatchRestarts(SyncerName),
            CompactionRounds = _compactor?.Rounds ?? 0,
            Timeline = _tap.Timeline,
            SyncFailures = _tap.Failures,
            Follower = _follower,
            FollowerRelists = _meters.RelistsAfterStart(FollowerSyncerName),
            Mirror = PictureComparison.Compare(truth, _sink.Snapshot()),
            FollowerView = PictureComparison.Compare(FailedPods(truth), _follower.Snapshot()),
            WrongTypes = _sink.WrongTypes,
            FirstWrongType = _sink.FirstWrongType,
        };
    }

    private DemoSnapshot Snapshot() => new(
        _clock.Elapsed,
        _phase,
        _tap.Status,
        _store.Revision,
        _store.Count,
        _syncer.KeyCount,
        _writes.Total,
        _tap.UpdatesIn,
        _sink.UpdatesReceived,
        _buffer.UpdatesCoalesced,
        _buffer.QueueLength,
        _sink.Count,
        _meters.RelistsAfterStart(SyncerName),
        _follower.ViewCount);

    private string Intro()
    {
        string duration = _settings.Duration is { } d ? $"for {d.TotalSeconds:0.#} s" : "until Ctrl+C";
        string compaction = _settings.CompactEvery is { } c ? $", compacting every {c.TotalSeconds:0.#} s" : string.Empty;
        return $"watchersync demo: {_settings.Keys:N0} keys, {_settings.Writers} writers {duration}, sink {_settings.SinkDelay.TotalMilliseconds:0} ms per batch{compaction}; watching {string.Join(", ", KeySpace.WatchedPrefixes)}";
    }

    private static async Task IgnoreCancellation(Task task)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
        }
    }
}
