using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using WatcherSync.InMemory;

namespace WatcherSync.Benchmarks;

/// <summary>
/// What a follower costs on top of a raw <see cref="ISyncerCallbacks"/> sink over the same syncer and store.
/// Initial: from start until the whole initial state is known (the sink: InSync; the follower: its first BatchDone,
/// after one New per key); the syncers and followers are stopped after the iteration, outside the measurement.
/// Steady: both already in sync; an invocation updates 10,000 distinct keys (a window sliding over the key set) and
/// ends when the sink has received 10,000 updates, or when the follower has made 10,000 Updated calls and a BatchDone.
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class FollowerBenchmark : IAsyncDisposable
{
    private const int SteadyWrites = 10_000;

    private readonly List<ISyncer> _startedSyncers = [];
    private readonly List<(CancellationTokenSource Stop, Task Run)> _startedFollowers = [];
    private PathKey[] _keys = [];
    private InMemoryBackend? _store;
    private CountingSink? _sink;
    private CountingFollower? _follower;
    private CountingSink? _lastSink;
    private CountingFollower? _lastFollower;
    private long _target;
    private int _next;

    /// <summary>Gets or sets how many keys the store holds.</summary>
    [Params(10_000, 100_000)]
    public int Keys { get; set; }

    [GlobalSetup(Targets = [nameof(InitialRawSink), nameof(InitialFollower)])]
    public void SetupInitial()
    {
        _keys = Fixtures.MakeKeys(Keys);
        _store = Fixtures.FilledStore(_keys);
    }

    [GlobalSetup(Target = nameof(SteadyRawSink))]
    public void SetupSteadySink()
    {
        SetupInitial();
        _target = InitialRawSink();
        _sink = _lastSink;
    }

    [GlobalSetup(Target = nameof(SteadyFollower))]
    public void SetupSteadyFollower()
    {
        SetupInitial();
        _target = InitialFollower();
        _follower = _lastFollower;
    }

    [BenchmarkCategory("Initial"), Benchmark(Baseline = true)]
    public long InitialRawSink()
    {
        var sink = new CountingSink();
        ISyncer syncer = _store!.CreateSyncer(Fixtures.ResourceTypes(1), sink);
        _startedSyncers.Add(syncer);
        syncer.Start();
        sink.WaitForStatus(SyncStatus.InSync);
        _lastSink = sink;
        return sink.Updates;
    }

    [BenchmarkCategory("Initial"), Benchmark]
    public long InitialFollower()
    {
        var follower = new CountingFollower();
        var stop = new CancellationTokenSource();
        Task run = Task.Run(() => Follower.RunAsync(_store!, Fixtures.ResourceTypes(1), follower, stop.Token));
        _startedFollowers.Add((stop, run));
        follower.WaitFor(Keys);
        _lastFollower = follower;
        return follower.Changes;
    }

    [BenchmarkCategory("Steady"), Benchmark(Baseline = true, OperationsPerInvoke = SteadyWrites)]
    public void SteadyRawSink()
    {
        Write();
        _sink!.WaitForUpdates(_target);
    }

    [BenchmarkCategory("Steady"), Benchmark(OperationsPerInvoke = SteadyWrites)]
    public void SteadyFollower()
    {
        Write();
        _follower!.WaitFor(_target);
    }

    [IterationCleanup(Targets = [nameof(InitialRawSink), nameof(InitialFollower)])]
    public void StopStarted() => StopAll();

    [GlobalCleanup]
    public void Cleanup() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        StopAll();
        if (_store is not null)
        {
            await _store.DisposeAsync();
            _store = null;
        }

        GC.SuppressFinalize(this);
    }

    private void StopAll()
    {
        Fixtures.StopAll(_startedSyncers);
        foreach ((CancellationTokenSource stop, Task run) in _startedFollowers)
        {
            stop.Cancel();
            try
            {
                run.GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
            }

            stop.Dispose();
        }

        _startedFollowers.Clear();
    }

    /// <summary>Updates the next <see cref="SteadyWrites"/> keys, each once.</summary>
    private void Write()
    {
        Fixtures.Write(_store!, _keys, ref _next, SteadyWrites);
        _target += SteadyWrites;
    }
}
