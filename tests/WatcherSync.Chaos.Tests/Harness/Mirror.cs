using System.Diagnostics;
using FluentAssertions;
using WatcherSync.Testing;

namespace WatcherSync.Chaos.Tests.Harness;

/// <summary>
/// What a consumer runs: a <see cref="WatcherSyncer"/> feeding a <see cref="DedupeBuffer"/> that feeds a sink. The sink
/// ends in a <see cref="RecordingCallbacks"/>, which keeps the picture and flags impossible transitions.
/// </summary>
internal sealed class Mirror : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Tap _tap;
    private ISyncerCallbacks _sink;
    private bool _disposed;

    /// <param name="client">The backend the syncer lists and watches.</param>
    /// <param name="prefixes">One resource type per prefix.</param>
    /// <param name="options">Syncer options; fast retries when null.</param>
    /// <param name="bufferOptions">Dedupe buffer options.</param>
    /// <param name="sink">Wraps the recorder in a faulty sink (stalling, throwing); null for the recorder itself.</param>
    public Mirror(
        IBackendClient client,
        IReadOnlyList<string> prefixes,
        WatcherSyncerOptions? options = null,
        DedupeBufferOptions? bufferOptions = null,
        Func<RecordingCallbacks, ISyncerCallbacks>? sink = null)
    {
        Prefixes = prefixes;
        Recorder = new RecordingCallbacks();
        Buffer = new DedupeBuffer(bufferOptions);
        _sink = sink?.Invoke(Recorder) ?? Recorder;
        _tap = new Tap(Buffer);
        Syncer = new WatcherSyncer(
            client,
            prefixes.Select(p => new ResourceType(new PrefixListOptions(p))),
            _tap,
            options ?? FastOptions());
    }

    public IReadOnlyList<string> Prefixes { get; }

    public RecordingCallbacks Recorder { get; }

    public DedupeBuffer Buffer { get; }

    /// <summary>Gets how many statuses the syncer has sent to the buffer.</summary>
    public int StatusesSent => _tap.Statuses;

    public WatcherSyncer Syncer { get; }

    /// <summary>Gets the running <see cref="DedupeBuffer.SendToSinkForeverAsync"/>.</summary>
    public Task Sending { get; private set; } = Task.CompletedTask;

    public static WatcherSyncerOptions FastOptions() => new()
    {
        MinResyncInterval = TimeSpan.FromMilliseconds(10),
        ListRetryInterval = TimeSpan.FromMilliseconds(100),
        Backoff = { InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(500) },
    };

    public void Start()
    {
        Sending = Buffer.SendToSinkForeverAsync(_sink, _stop.Token);
        Syncer.Start();
    }

    /// <summary>Starts sending again after the sink failed (the buffer carries on from the next item).</summary>
    public void RestartSending(ISyncerCallbacks? sink = null)
    {
        _sink = sink ?? _sink;
        Sending = Buffer.SendToSinkForeverAsync(_sink, _stop.Token);
    }

    /// <summary>
    /// Lists the datastore afresh (retrying while it is unavailable) and waits until the sink's picture equals it and
    /// InSync is the last status the sink got. Returns the time from the call to convergence.
    /// </summary>
    /// <param name="truth">A client of the same datastore (not the one under test when that one may be cut off).</param>
    /// <param name="timeout">How long convergence may take.</param>
    /// <param name="log">Where the differences are written when it does not converge (they are in the exception too).</param>
    public async Task<TimeSpan> ConvergeAsync(IBackendClient truth, TimeSpan timeout, Action<string>? log = null)
    {
        var clock = Stopwatch.StartNew();
        Dictionary<string, string> expected = await ListAsync(truth, Prefixes, timeout);
        var listed = Stopwatch.StartNew();
        while (!(Recorder.LastStatus == SyncStatus.InSync && Values.Differences(Recorder.Picture, expected).Count == 0))
        {
            if (clock.Elapsed > timeout)
            {
                List<string> differences = Values.Differences(Recorder.Picture, expected);
                string[] lines =
                [
                    $"not converged: last status {Recorder.LastStatus}, {differences.Count} differences, sending {Sending.Status}, queue {Buffer.QueueLength}",
                    .. differences.Take(20).Select(difference => "  " + difference),
                ];
                foreach (string line in lines)
                {
                    log?.Invoke(line);
                }

                throw new TimeoutException(
                    $"The sink's picture did not converge to the datastore ({expected.Count} keys) within {timeout.TotalSeconds} s.{Environment.NewLine}{string.Join(Environment.NewLine, lines)}");
            }

            if (listed.Elapsed > TimeSpan.FromSeconds(1))
            {
                // A write that timed out on the client may still land on the server: list the truth again.
                expected = await ListAsync(truth, Prefixes, timeout);
                listed.Restart();
            }

            await Task.Delay(5);
        }

        return clock.Elapsed;
    }

    /// <summary>
    /// After a fault: pauses the writers, waits for convergence (see <see cref="ConvergeAsync"/>), checks that the sink
    /// never saw an impossible transition, and lets the writers go on. Returns the time to converge.
    /// </summary>
    public async Task<TimeSpan> SettleAsync(Writers writers, IBackendClient truth, TimeSpan timeout, Action<string> log, string because)
    {
        await writers.PauseAsync(timeout);
        TimeSpan converge = await ConvergeAsync(truth, timeout, log);
        Recorder.Violations.Should().BeEmpty(because);
        writers.Resume();
        return converge;
    }

    /// <summary>The keys the sink should hold: every key listed, except those whose value does not decode.</summary>
    public static async Task<Dictionary<string, string>> ListAsync(IBackendClient client, IEnumerable<string> prefixes, TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        var expected = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string prefix in prefixes)
        {
            while (true)
            {
                try
                {
                    foreach (KVPair kv in (await client.ListAsync(new PrefixListOptions(prefix))).KVPairs)
                    {
                        if (kv.Value is not InvalidValue)
                        {
                            expected[kv.Key.DefaultPath] = Values.Text(kv.Value);
                        }
                    }

                    break;
                }
                catch (DatastoreException ex) when (ex.IsTransient && deadline.Elapsed < timeout)
                {
                    await Task.Delay(100);
                }
            }
        }

        return expected;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await Syncer.StopAsync();
        Buffer.Stop();
        await _stop.CancelAsync();
        try
        {
            await Sending.WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (Exception ex) when (ex is OperationCanceledException or InvalidOperationException or ChaosSinkException)
        {
            // The sink's own failure was checked by the test that made it fail.
        }

        Buffer.Dispose();
        _stop.Dispose();
    }
}
