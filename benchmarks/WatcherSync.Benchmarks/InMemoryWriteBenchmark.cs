using BenchmarkDotNet.Attributes;
using WatcherSync.InMemory;

namespace WatcherSync.Benchmarks;

/// <summary>
/// One writer updating existing keys of the in-memory backend (<c>ApplyAsync</c>, round-robin over the keys) while 0,
/// 1, 4 or 16 raw prefix watches read on tasks of their own. An invocation writes 100,000 updates and ends only when
/// every watch has seen every one of them. Baseline: the same writes to a plain dictionary behind a lock. Per write.
/// </summary>
[MemoryDiagnoser]
public class InMemoryWriteBenchmark : IAsyncDisposable
{
    private const int Writes = 100_000;

    private PathKey[] _keys = [];
    private InMemoryBackend? _store;
    private PlainStore? _plain;
    private WatchCounter[] _watchers = [];
    private long _written;
    private int _next;

    /// <summary>Gets or sets how many keys the store holds (the writes cycle over all of them).</summary>
    [Params(10_000, 1_000_000)]
    public int Keys { get; set; }

    [GlobalSetup(Target = nameof(PlainDictionary))]
    public void SetupPlain()
    {
        _keys = Fixtures.MakeKeys(Keys);
        _plain = Fixtures.FilledPlainStore(_keys);
    }

    [GlobalSetup(Target = nameof(Watchers0))]
    public void Setup0() => Setup(0);

    [GlobalSetup(Target = nameof(Watchers1))]
    public void Setup1() => Setup(1);

    [GlobalSetup(Target = nameof(Watchers4))]
    public void Setup4() => Setup(4);

    [GlobalSetup(Target = nameof(Watchers16))]
    public void Setup16() => Setup(16);

    [Benchmark(Baseline = true, OperationsPerInvoke = Writes)]
    public void PlainDictionary()
    {
        PlainStore store = _plain!;
        for (int n = 0; n < Writes; n++)
        {
            store.Apply(new KVPair(_keys[_next], Fixtures.Value(n)));
            _next = _next + 1 == _keys.Length ? 0 : _next + 1;
        }
    }

    [Benchmark(OperationsPerInvoke = Writes)]
    public void Watchers0() => WriteAndWait();

    [Benchmark(OperationsPerInvoke = Writes)]
    public void Watchers1() => WriteAndWait();

    [Benchmark(OperationsPerInvoke = Writes)]
    public void Watchers4() => WriteAndWait();

    [Benchmark(OperationsPerInvoke = Writes)]
    public void Watchers16() => WriteAndWait();

    [GlobalCleanup]
    public void Cleanup() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        foreach (WatchCounter watcher in _watchers)
        {
            await watcher.DisposeAsync();
        }

        _watchers = [];
        if (_store is not null)
        {
            await _store.DisposeAsync();
            _store = null;
        }

        GC.SuppressFinalize(this);
    }

    private void Setup(int watchers)
    {
        _keys = Fixtures.MakeKeys(Keys);
        _store = Fixtures.FilledStore(_keys);
        var list = new PrefixListOptions(Fixtures.Prefix(0));
        _watchers = [.. Enumerable.Range(0, watchers).Select(_ => WatchCounter.Start(_store, list))];
    }

    private void WriteAndWait()
    {
        Fixtures.Write(_store!, _keys, ref _next, Writes);
        _written += Writes;
        foreach (WatchCounter watcher in _watchers)
        {
            watcher.WaitFor(_written);
        }
    }
}
