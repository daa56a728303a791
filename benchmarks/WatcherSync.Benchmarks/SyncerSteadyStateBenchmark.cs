using BenchmarkDotNet.Attributes;
using WatcherSync.InMemory;

namespace WatcherSync.Benchmarks;

/// <summary>
/// Steady state: a started, in-sync WatcherSyncer follows the in-memory backend while one writer updates existing
/// keys (round-robin). An invocation writes 100,000 updates and ends when the callbacks (a sink that only counts) have
/// received all of them. With 8 resource types the keys, and so the writes, are spread over 8 prefixes, each watched by
/// a cache of its own. Baseline: the same writes read by one raw prefix watch. The writer's own cost is inside every
/// figure; the two cores run the writer and the readers in parallel. Per update.
/// </summary>
[MemoryDiagnoser]
public class SyncerSteadyStateBenchmark : IAsyncDisposable
{
    private const int Writes = 100_000;

    private PathKey[] _keys = [];
    private InMemoryBackend? _store;
    private WatchCounter? _watch;
    private ISyncer? _syncer;
    private CountingSink? _sink;
    private long _target;
    private int _next;

    /// <summary>Gets or sets how many keys the store holds (over all resource types).</summary>
    [Params(10_000, 1_000_000)]
    public int Keys { get; set; }

    [GlobalSetup(Target = nameof(RawWatch))]
    public void SetupRawWatch()
    {
        _keys = Fixtures.MakeKeys(Keys);
        _store = Fixtures.FilledStore(_keys);
        _watch = WatchCounter.Start(_store, new PrefixListOptions(Fixtures.Prefix(0)));
    }

    [GlobalSetup(Target = nameof(Syncer1Type))]
    public void Setup1() => SetupSyncer(1);

    [GlobalSetup(Target = nameof(Syncer8Types))]
    public void Setup8() => SetupSyncer(8);

    [Benchmark(Baseline = true, OperationsPerInvoke = Writes)]
    public void RawWatch()
    {
        Write();
        _watch!.WaitFor(_target);
    }

    [Benchmark(OperationsPerInvoke = Writes)]
    public void Syncer1Type()
    {
        Write();
        _sink!.WaitForUpdates(_target);
    }

    [Benchmark(OperationsPerInvoke = Writes)]
    public void Syncer8Types()
    {
        Write();
        _sink!.WaitForUpdates(_target);
    }

    [GlobalCleanup]
    public void Cleanup() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (_watch is not null)
        {
            await _watch.DisposeAsync();
            _watch = null;
        }

        if (_syncer is not null)
        {
            await _syncer.StopAsync();
            _syncer = null;
        }

        if (_store is not null)
        {
            await _store.DisposeAsync();
            _store = null;
        }

        GC.SuppressFinalize(this);
    }

    private void SetupSyncer(int types)
    {
        _keys = Fixtures.MakeKeys(Keys, types);
        _store = Fixtures.FilledStore(_keys);
        _sink = new CountingSink();
        _syncer = _store.CreateSyncer(Fixtures.ResourceTypes(types), _sink);
        _syncer.Start();
        _sink.WaitForStatus(SyncStatus.InSync);
        _target = _sink.Updates;
    }

    private void Write()
    {
        Fixtures.Write(_store!, _keys, ref _next, Writes);
        _target += Writes;
    }
}
