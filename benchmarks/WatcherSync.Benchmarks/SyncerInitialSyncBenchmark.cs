using BenchmarkDotNet.Attributes;
using WatcherSync.InMemory;

namespace WatcherSync.Benchmarks;

/// <summary>
/// A WatcherSyncer's initial sync of one resource type from the in-memory backend: from <c>Start</c> until the
/// callbacks (a sink that only counts) have received InSync, so every key has been delivered as New. Baseline: the
/// bare <c>ListAsync</c> of the same keys, the floor of any list-then-watch. Per invocation, one sync; the syncers are
/// stopped after the iteration, outside the measurement (stopping emits a delete per key).
/// </summary>
[MemoryDiagnoser]
public class SyncerInitialSyncBenchmark : IAsyncDisposable
{
    private readonly PrefixListOptions _list = new(Fixtures.Prefix(0));
    private readonly List<ISyncer> _started = [];
    private InMemoryBackend? _store;

    /// <summary>Gets or sets how many keys the store holds.</summary>
    [Params(10_000, 100_000, 1_000_000)]
    public int Keys { get; set; }

    [GlobalSetup]
    public void Setup() => _store = Fixtures.FilledStore(Fixtures.MakeKeys(Keys));

    [Benchmark(Baseline = true)]
    public int List() => _store!.ListAsync(_list).GetAwaiter().GetResult().KVPairs.Count;

    [Benchmark]
    public long InitialSync() => Fixtures.InitialSync(_store!, _started);

    [IterationCleanup]
    public void StopSyncers() => Fixtures.StopAll(_started);

    [GlobalCleanup]
    public void Cleanup() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        StopSyncers();
        if (_store is not null)
        {
            await _store.DisposeAsync();
            _store = null;
        }

        GC.SuppressFinalize(this);
    }
}
