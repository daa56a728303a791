using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Tests.Sharing;

public sealed class SharedWatcherSyncerTests : IAsyncLifetime
{
    private readonly InMemoryBackend _store = new();
    private readonly FaultyBackend _backend;
    private readonly SharedWatcherSyncer _shared;

    public SharedWatcherSyncerTests()
    {
        _backend = new FaultyBackend(_store, seed: 1, faultRate: 0) { Faults = false };
        _shared = new SharedWatcherSyncer(_backend, [new ResourceType(new PrefixListOptions("/a/"))]);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _shared.DisposeAsync();
        await _store.DisposeAsync();
    }

    [Fact]
    public async Task AddHandler_BeforeStart_GetsTheListThenLiveUpdates_AndSyncs()
    {
        await Put("/a/1", "one");
        var handler = new RecordingCallbacks();
        await using SyncerHandlerRegistration registration = _shared.AddHandler(handler);
        registration.HasSynced.Should().BeFalse();
        _shared.Start();

        await Eventually.Within(registration.WaitForSyncedAsync(), "the handler syncs");
        registration.HasSynced.Should().BeTrue();
        handler.Picture.Should().Equal(new Dictionary<string, object?> { ["/a/1"] = "one" });

        await Put("/a/2", "two");
        await Eventually.True(() => handler.Picture.Count == 2, "the live update arrives");
        handler.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task AddHandler_AfterInSync_GetsThePictureAsNewThenLiveUpdates_WithoutAList()
    {
        for (int i = 0; i < 50; i++)
        {
            await Put($"/a/{i}", $"v{i}");
        }

        var first = new RecordingCallbacks();
        await using SyncerHandlerRegistration firstRegistration = _shared.AddHandler(first);
        _shared.Start();
        await Eventually.Within(firstRegistration.WaitForSyncedAsync(), "the first handler syncs");
        int lists = _backend.ListCalls;

        var late = new RecordingCallbacks();
        await using SyncerHandlerRegistration lateRegistration = _shared.AddHandler(late);
        await Eventually.Within(lateRegistration.WaitForSyncedAsync(), "the late handler syncs");
        late.Picture.Should().Equal(await PictureAsync());
        late.Statuses.Should().Equal(SyncStatus.ResyncInProgress, SyncStatus.InSync);
        late.AllUpdates.Should().HaveCount(50).And.OnlyContain(u => u.UpdateType == UpdateType.New);
        _backend.ListCalls.Should().Be(lists, "a late handler is served from the shared picture, not a new list");

        await Put("/a/0", "changed");
        await Eventually.True(() => Equals(late.Picture["/a/0"], "changed") && Equals(first.Picture["/a/0"], "changed"), "both handlers get the live update");
        late.AllUpdates[^1].UpdateType.Should().Be(UpdateType.Updated);
        late.Violations.Should().BeEmpty();
        first.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task SlowHandler_DoesNotHoldUpAFastOne_AndCatchesUpWhenReleased()
    {
        using var gate = new ManualResetEventSlim(false);
        var slow = new RecordingCallbacks { UpdatesGate = gate };
        var fast = new RecordingCallbacks();
        await using SyncerHandlerRegistration slowRegistration = _shared.AddHandler(slow);
        await using SyncerHandlerRegistration fastRegistration = _shared.AddHandler(fast);
        await Put("/a/first", "x");
        _shared.Start();
        await Eventually.Within(fastRegistration.WaitForSyncedAsync(), "the fast handler syncs");
        await Eventually.True(() => slow.UpdatesEntered == 1, "the slow handler is stuck in its first OnUpdates");

        for (int i = 0; i < 200; i++)
        {
            await Put($"/a/{i % 20}", $"v{i}");
        }

        Dictionary<string, object?> expected = await PictureAsync();
        await Eventually.True(() => PictureEquals(fast.Picture, expected), "the fast handler has every write while the slow one is stuck");
        slowRegistration.HasSynced.Should().BeFalse("the slow handler has not got past its first batch");

        gate.Set();
        await Eventually.Within(slowRegistration.WaitForSyncedAsync(), "the slow handler syncs once released");
        await Eventually.True(() => PictureEquals(slow.Picture, expected), "the slow handler converges");
        slow.AllUpdates.Count.Should().BeLessThan(201, "the slow handler's backlog was coalesced per key");
        slow.Violations.Should().BeEmpty();
        fast.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task HandlerAddedDuringChurn_EndsWithTheStoresExactPicture()
    {
        var first = new RecordingCallbacks();
        await using SyncerHandlerRegistration firstRegistration = _shared.AddHandler(first);
        _shared.Start();
        await Eventually.Within(firstRegistration.WaitForSyncedAsync(), "the first handler syncs");

        using var stop = new CancellationTokenSource();
        Task churn = Task.Run(async () =>
        {
            var random = new Random(5);
            while (!stop.IsCancellationRequested)
            {
                string key = $"/a/{random.Next(300)}";
                if (random.Next(4) == 0)
                {
                    await DeleteIfThere(key);
                }
                else
                {
                    await Put(key, $"v{random.Next()}");
                }
            }
        });

        await Eventually.True(() => _store.Count > 100, "the churn has filled the store");
        var late = new RecordingCallbacks();
        await using SyncerHandlerRegistration lateRegistration = _shared.AddHandler(late);
        await Eventually.Within(lateRegistration.WaitForSyncedAsync(), "the late handler syncs during the churn");
        await Eventually.True(() => late.AllUpdates.Count > 200 + _store.Count, "the late handler has seen the churn go on after it synced");
        await stop.CancelAsync();
        await churn;

        Dictionary<string, object?> expected = await PictureAsync();
        await Eventually.True(() => PictureEquals(late.Picture, expected), "the late handler holds exactly the store's picture");
        await Eventually.True(() => PictureEquals(first.Picture, expected), "the first handler holds exactly the store's picture");
        late.Violations.Should().BeEmpty();
        first.Violations.Should().BeEmpty();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RemoveHandler_EndsIt_WithOrWithoutTheDeletes(bool deleteOnRemove)
    {
        await Put("/a/1", "one");
        await Put("/a/2", "two");
        var handler = new RecordingCallbacks();
        var other = new RecordingCallbacks();
        SyncerHandlerRegistration registration = _shared.AddHandler(handler, new SyncerHandlerOptions { DeleteOnRemove = deleteOnRemove });
        await using SyncerHandlerRegistration otherRegistration = _shared.AddHandler(other);
        _shared.Start();
        await Eventually.Within(registration.WaitForSyncedAsync(), "the handler syncs");

        await _shared.RemoveHandlerAsync(registration);
        await registration.DisposeAsync();
        handler.Picture.Should().HaveCount(deleteOnRemove ? 0 : 2);
        int calls = handler.Calls.Count;

        await Put("/a/3", "three");
        await Eventually.True(() => other.Picture.Count == 3, "the other handler goes on");
        handler.Calls.Should().HaveCount(calls, "a removed handler gets nothing more");
        handler.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task HandlerThatThrows_IsContained_TheOthersAndItsNextBatchesGoOn()
    {
        var thrower = new ThrowingOnce();
        var other = new RecordingCallbacks();
        await using SyncerHandlerRegistration throwing = _shared.AddHandler(thrower);
        await using SyncerHandlerRegistration registration = _shared.AddHandler(other);
        _shared.Start();
        await Eventually.Within(registration.WaitForSyncedAsync(), "the other handler syncs");

        await Put("/a/boom", "x");
        await Eventually.True(() => thrower.Throws == 1, "the handler threw on the batch with /a/boom");
        await Put("/a/after", "y");
        await Eventually.True(() => other.Picture.Count == 2, "the other handler has both writes");
        await Eventually.True(() => thrower.Keys.Contains("/a/after"), "the throwing handler goes on with its next batch");
        throwing.HasSynced.Should().BeTrue();
        throwing.CallbackFailure.Should().NotBeNull("a handler's failure is kept where it can be seen without a logger");
        throwing.CallbackFailure!.InnerException!.Message.Should().Be("handler bug");
        registration.CallbackFailure.Should().BeNull("the other handler never threw");
        _shared.CallbackFailure.Should().BeSameAs(throwing.CallbackFailure, "the shared syncer keeps the first failure of any handler");
    }

    [Fact]
    public async Task StopAsync_EveryHandlerIsToldEveryKeyDeleted_AndNoHandlerCanBeAddedAfter()
    {
        await Put("/a/1", "one");
        var handler = new RecordingCallbacks();
        SyncerHandlerRegistration registration = _shared.AddHandler(handler, new SyncerHandlerOptions { DeleteOnRemove = false });
        _shared.Start();
        await Eventually.Within(registration.WaitForSyncedAsync(), "the handler syncs");

        await _shared.StopAsync();
        handler.Picture.Should().BeEmpty();
        Action late = () => _shared.AddHandler(new RecordingCallbacks());
        late.Should().Throw<ObjectDisposedException>();
        await registration.DisposeAsync();
        handler.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task WaitForSyncedAsync_HandlerRemovedBeforeItSynced_IsCancelled()
    {
        SyncerHandlerRegistration registration = _shared.AddHandler(new RecordingCallbacks());
        Task synced = registration.WaitForSyncedAsync();
        await registration.DisposeAsync();
        Func<Task> wait = () => synced;
        await wait.Should().ThrowAsync<OperationCanceledException>();
    }

    private Task Put(string key, string value) => _store.ApplyAsync(new KVPair(new PathKey(key), value));

    private async Task DeleteIfThere(string key)
    {
        try
        {
            await _store.DeleteAsync(new PathKey(key));
        }
        catch (ResourceNotFoundException)
        {
            // Not there: nothing to delete.
        }
    }

    private async Task<Dictionary<string, object?>> PictureAsync() =>
        (await _store.ListAsync(new PrefixListOptions("/a/"))).KVPairs.ToDictionary(kv => kv.Key.DefaultPath, kv => kv.Value, StringComparer.Ordinal);

    private static bool PictureEquals(Dictionary<string, object?> actual, Dictionary<string, object?> expected) =>
        actual.Count == expected.Count && expected.All(kv => actual.TryGetValue(kv.Key, out object? value) && Equals(value, kv.Value));

    /// <summary>Throws on the batch that carries /a/boom; records the keys it is given otherwise.</summary>
    private sealed class ThrowingOnce : ISyncerCallbacks
    {
        private readonly Lock _sync = new();
        private readonly HashSet<string> _keys = [];
        private int _throws;

        public int Throws => Volatile.Read(ref _throws);

        public IReadOnlyCollection<string> Keys
        {
            get
            {
                lock (_sync)
                {
                    return [.. _keys];
                }
            }
        }

        public void OnStatusUpdated(SyncStatus status)
        {
        }

        public void OnUpdates(IReadOnlyList<Update> updates)
        {
            if (updates.Any(u => u.KVPair.Key.DefaultPath == "/a/boom"))
            {
                Interlocked.Increment(ref _throws);
                throw new InvalidOperationException("handler bug");
            }

            lock (_sync)
            {
                _keys.UnionWith(updates.Select(u => u.KVPair.Key.DefaultPath));
            }
        }
    }
}
