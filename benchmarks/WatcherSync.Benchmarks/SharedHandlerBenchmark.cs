using BenchmarkDotNet.Attributes;
using WatcherSync.InMemory;

namespace WatcherSync.Benchmarks;

/// <summary>
/// A handler added to a <see cref="SharedWatcherSyncer"/> that is already in sync: from <c>AddHandler</c> until the
/// handler (a sink that only counts, behind its own dedupe buffer) has been told InSync, so it holds every key. It is
/// served from the shared picture, with no list against the datastore. Baseline: a fresh
/// <see cref="WatcherSyncer"/>'s initial sync of the same keys from the in-memory backend (list, then every key to a
/// counting sink, then InSync): what a handler would cost without sharing. Handlers and syncers are removed after the
/// iteration, outside the measurement.
/// </summary>
[MemoryDiagnoser]
public class SharedHandlerBenchmark : IAsyncDisposable
{
    private readonly List<ISyncer> _started = [];
    private readonly List<SyncerHandlerRegistration> _handlers = [];
    private InMemoryBackend? _store;
    private SharedWatcherSyncer? _shared;

    /// <summary>Gets or sets how many keys the store holds.</summary>
    [Params(100_000)]
    public int Keys { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _store = Fixtures.FilledStore(Fixtures.MakeKeys(Keys));
        _shared = new SharedWatcherSyncer(_store, Fixtures.ResourceTypes(1));
        _shared.Start();
        SyncerHandlerRegistration first = _shared.AddHandler(new CountingSink());
        first.WaitForSyncedAsync().GetAwaiter().GetResult();
        _handlers.Add(first);
    }

    [Benchmark(Baseline = true)]
    public long FreshSync() => Fixtures.InitialSync(_store!, _started);

    [Benchmark]
    public long LateHandler()
    {
        var sink = new CountingSink();
        SyncerHandlerRegistration registration = _shared!.AddHandler(sink, new SyncerHandlerOptions { DeleteOnRemove = false });
        _handlers.Add(registration);
        registration.WaitForSyncedAsync().GetAwaiter().GetResult();
        return sink.Updates;
    }

    [IterationCleanup]
    public void Cleanup()
    {
        Fixtures.StopAll(_started);

        // Keep the first handler: the shared syncer always has one.
        foreach (SyncerHandlerRegistration handler in _handlers.Skip(1))
        {
            handler.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        _handlers.RemoveRange(1, _handlers.Count - 1);
    }

    [GlobalCleanup]
    public void GlobalCleanup() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask DisposeAsync()
    {
        Fixtures.StopAll(_started);
        if (_shared is not null)
        {
            await _shared.DisposeAsync();
            _shared = null;
        }

        if (_store is not null)
        {
            await _store.DisposeAsync();
            _store = null;
        }

        GC.SuppressFinalize(this);
    }
}
