using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.DataSync.Tests;

/// <summary>The DataSync suite over the embedded datastore: the first client owns the store, later ones share it.</summary>
public sealed class DataSyncInMemoryTests : DataSyncContractTests
{
    private readonly FakeTimeProvider _time = new();
    private InMemoryBackend? _store;

    protected override Task<IBackendClient> CreateClientAsync()
    {
        if (_store is null)
        {
            _store = new InMemoryBackend(new InMemoryBackendOptions { TimeProvider = _time });
            return Task.FromResult<IBackendClient>(_store);
        }

        return Task.FromResult<IBackendClient>(new SharedStoreClient(_store));
    }

    protected override Task CompactAsync(IBackendClient client)
    {
        _store!.Compact(_store.Revision);
        return Task.CompletedTask;
    }

    protected override Task AdvanceTimeAsync(TimeSpan elapsed)
    {
        _time.Advance(elapsed);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task ShortLivedKeys_LeaveNothingBehind_MemoryFollowsWritesInFlight()
    {
        await using var store = new InMemoryBackend();
        await using var engine = new DataSyncEngine(store);
        var sub = new Subscriber();
        await using var registration = (WatchRegistration)engine.Watch("short", sub.Changes, sub.Resyncs, "/short/");
        await sub.NextResyncAsync();
        for (int i = 0; i < 300; i++)
        {
            await engine.PutAsync($"/short/{i}", i);
            await engine.DeleteAsync($"/short/{i}");
        }

        await sub.NextChangesAsync(600);
        registration.Writes.Count.Should().Be(0, "no write is in flight and no key is left");
    }

    [Fact]
    public async Task ClientLifetimePut_RacingDispose_NeverOutlivesTheEngine()
    {
        await using var store = new InMemoryBackend();
        var client = new GatedClient(store);
        var engine = new DataSyncEngine(client);
        Task put = engine.PutAsync("/life/racing", "v", PutOption.WithClientLifetimeTtl());
        await Eventually.True(() => client.Held, "the put reaches the datastore");

        Task dispose = engine.DisposeAsync().AsTask();
        client.Open();
        Exception? error = await Record.ExceptionAsync(() => put);
        await Eventually.Within(dispose, "dispose completes");

        if (error is not null)
        {
            error.Should().BeOfType<ObjectDisposedException>();
        }

        (await store.ListAsync(new PrefixListOptions("/life/"))).KVPairs.Should().BeEmpty("a client-lifetime key never outlives the engine that wrote it");
    }

    [Fact]
    public async Task ConcurrentDispose_ReturnsOnlyOnceTheFirstHasFinished()
    {
        await using var store = new InMemoryBackend();
        var client = new GatedClient(store);
        var engine = new DataSyncEngine(client);
        Task put = engine.PutAsync("/life/held", "v", PutOption.WithClientLifetimeTtl());
        await Eventually.True(() => client.Held, "the put reaches the datastore");

        // The first dispose cannot finish while the put it awaits is held.
        Task first = engine.DisposeAsync().AsTask();
        Task second = engine.DisposeAsync().AsTask();
        second.IsCompleted.Should().BeFalse("a second dispose returns only once the first has finished");

        client.Open();
        await Eventually.Within(Task.WhenAll(first, second, put), "both disposes and the put complete");
        (await store.ListAsync(new PrefixListOptions("/life/"))).KVPairs.Should().BeEmpty();
    }

    [Fact]
    public async Task Watch_WhoseSyncerFailsToStart_Throws_AndLeavesNoLoopRunning()
    {
        await using var store = new InMemoryBackend();
        await using var engine = new DataSyncEngine(new UnstartableClient(store));
        var sub = new Subscriber();
        Action watch = () => engine.Watch("broken", sub.Changes, sub.Resyncs, "/broken/");
        watch.Should().Throw<InvalidOperationException>().WithMessage("cannot start");
        await Eventually.True(() => engine.RunningLoops == 0, "the failed registration's delivery loop has ended", TimeSpan.FromSeconds(5));
    }

    /// <summary>A client of the store whose puts wait until <see cref="Open"/> is called.</summary>
    private sealed class GatedClient(InMemoryBackend store) : SharedStoreClient(store)
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _held;

        public bool Held => _held;

        public void Open() => _gate.TrySetResult();

        public override async Task<KVPair> ApplyAsync(KVPair kv, CancellationToken cancellationToken = default)
        {
            _held = true;
            await _gate.Task;
            return await base.ApplyAsync(kv, cancellationToken);
        }
    }

    /// <summary>A second client of the same store: disposing it leaves the store alone.</summary>
    private class SharedStoreClient(InMemoryBackend store) : IBackendClient
    {
        public Task<KVPair> CreateAsync(KVPair kv, CancellationToken cancellationToken = default) => store.CreateAsync(kv, cancellationToken);

        public Task<KVPair> UpdateAsync(KVPair kv, CancellationToken cancellationToken = default) => store.UpdateAsync(kv, cancellationToken);

        public virtual Task<KVPair> ApplyAsync(KVPair kv, CancellationToken cancellationToken = default) => store.ApplyAsync(kv, cancellationToken);

        public Task<KVPair> DeleteAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => store.DeleteAsync(key, revision, cancellationToken);

        public Task<KVPair> GetAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => store.GetAsync(key, revision, cancellationToken);

        public Task<KVPairList> ListAsync(IListOptions list, string? revision = null, CancellationToken cancellationToken = default) => store.ListAsync(list, revision, cancellationToken);

        public Task<IWatch> WatchAsync(IListOptions list, WatchOptions options, CancellationToken cancellationToken = default) => store.WatchAsync(list, options, cancellationToken);

        public virtual ISyncer CreateSyncer(IEnumerable<ResourceType> resourceTypes, ISyncerCallbacks callbacks) => new WatcherSyncer(this, resourceTypes, callbacks);

        public Task EnsureInitializedAsync(CancellationToken cancellationToken = default) => store.EnsureInitializedAsync(cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A client of the store whose syncers fail to start.</summary>
    private sealed class UnstartableClient(InMemoryBackend store) : SharedStoreClient(store)
    {
        public override ISyncer CreateSyncer(IEnumerable<ResourceType> resourceTypes, ISyncerCallbacks callbacks) => new UnstartableSyncer();

        private sealed class UnstartableSyncer : ISyncer
        {
            public void Start() => throw new InvalidOperationException("cannot start");

            public Task StopAsync() => Task.CompletedTask;

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
