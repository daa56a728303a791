using System.Threading.Channels;
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
    public async Task SubscriberThatNeverCallsDone_InboxHoldsOneUpdatePerKey_NotOnePerWrite()
    {
        await using var store = new InMemoryBackend();
        var time = new FakeTimeProvider();
        await using var engine = new DataSyncEngine(store, new DataSyncOptions { MaxQueuedChanges = 10, TimeProvider = time });
        var changes = Channel.CreateUnbounded<ChangeEvent>();
        var resyncs = Channel.CreateUnbounded<ResyncEvent>();
        await using var writer = new DataSyncEngine(new SharedStoreClient(store));
        await using var registration = (WatchRegistration)engine.Watch("behind", changes.Writer, resyncs.Writer, "/behind/");
        (await resyncs.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30))).Done(null);

        // The first change is taken and never acknowledged: every later write queues behind it.
        await writer.PutAsync("/behind/0", 0);
        ChangeEvent held = await changes.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Task<Exception>? merged = null;
        for (int i = 1; i <= 200; i++)
        {
            if (i == 100)
            {
                // A write of the engine whose change is merged away: the later change of its key answers it.
                merged = Record.ExceptionAsync(() => engine.PutAsync("/behind/3", -1));
                await Eventually.True(() => registration.Writes.Count > 0, "the engine's write is pending");
            }
            else
            {
                await writer.PutAsync($"/behind/{i % 5}", i);
            }
        }

        await Eventually.True(() => registration.InboxReceived >= 201, "every write reaches the registration");
        registration.InboxCount.Should().BeLessThanOrEqualTo(10, "a subscriber that is behind costs one queued change per key, not one per write");

        held.Done(null);
        var last = new Dictionary<string, string>(StringComparer.Ordinal);
        while (last.Count < 5 || last["/behind/0"] != "200")
        {
            ChangeEvent next = await changes.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            foreach (IChangeValue change in next.Changes)
            {
                last[change.Key] = change.GetValue<int>().ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            next.Done(null);
        }

        last.Should().Equal(new Dictionary<string, string> { ["/behind/0"] = "200", ["/behind/1"] = "196", ["/behind/2"] = "197", ["/behind/3"] = "198", ["/behind/4"] = "199" });
        (await merged!.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeNull("the write merged away is answered by the later change of its key");
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

            public SyncStatus Status => SyncStatus.WaitForDatastore;

            public long KeyCount => 0;

            public SyncerCallbackException? CallbackFailure => null;

            public Task WaitForInSyncAsync(CancellationToken cancellationToken = default) => Task.FromException(new InvalidOperationException("never started"));

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
