using BenchmarkDotNet.Attributes;
using WatcherSync.InMemory;

namespace WatcherSync.Benchmarks;

/// <summary>
/// A prefix list of every key in the in-memory backend (one resource type), against a snapshot copy of a plain
/// dictionary's values behind a lock (unordered, no revisions to resolve). Per invocation, one list.
/// </summary>
[MemoryDiagnoser]
public class InMemoryListBenchmark : IAsyncDisposable
{
    private readonly PrefixListOptions _list = new(Fixtures.Prefix(0));
    private InMemoryBackend? _store;
    private PlainStore? _plain;

    /// <summary>Gets or sets how many keys the store holds.</summary>
    [Params(10_000, 100_000, 1_000_000)]
    public int Keys { get; set; }

    [GlobalSetup(Target = nameof(PlainDictionarySnapshot))]
    public void SetupPlain() => _plain = Fixtures.FilledPlainStore(Fixtures.MakeKeys(Keys));

    [GlobalSetup(Target = nameof(List))]
    public void SetupStore() => _store = Fixtures.FilledStore(Fixtures.MakeKeys(Keys));

    [Benchmark(Baseline = true)]
    public int PlainDictionarySnapshot() => _plain!.List().Count;

    [Benchmark]
    public int List() => _store!.ListAsync(_list).GetAwaiter().GetResult().KVPairs.Count;

    [GlobalCleanup]
    public void Cleanup() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        if (_store is not null)
        {
            await _store.DisposeAsync();
            _store = null;
        }

        GC.SuppressFinalize(this);
    }
}
