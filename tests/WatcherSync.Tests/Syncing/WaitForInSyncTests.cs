using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Tests.Syncing;

/// <summary><see cref="ISyncer.WaitForInSyncAsync"/>, <see cref="ISyncer.Status"/> and <see cref="ISyncer.KeyCount"/> through the interface, and callbacks from lambdas.</summary>
public sealed class WaitForInSyncTests
{
    private static readonly ResourceType[] Pods = [new ResourceType(new PrefixListOptions("/pods/"))];

    [Fact]
    public async Task WaitBeforeStart_EndsOnceTheCallbacksHaveHadInSync_AfterThePicture()
    {
        await using var store = new InMemoryBackend();
        await store.CreateAsync(new KVPair(new PathKey("/pods/a"), "1"));
        await store.CreateAsync(new KVPair(new PathKey("/pods/b"), "2"));
        var seen = new List<string>();
        await using ISyncer syncer = store.CreateSyncer(Pods, new SyncerCallbacks
        {
            OnStatusUpdated = status => seen.Add(status.ToString()),
            OnUpdates = updates => seen.AddRange(updates.Select(u => u.KVPair.Key.DefaultPath)),
        });
        Task waiting = syncer.WaitForInSyncAsync();
        syncer.Status.Should().Be(SyncStatus.WaitForDatastore);
        waiting.IsCompleted.Should().BeFalse("nothing has started");

        syncer.Start();
        await Eventually.Within(waiting, "the syncer is in sync");

        seen.Should().Equal("ResyncInProgress", "/pods/a", "/pods/b", "InSync");
        syncer.Status.Should().Be(SyncStatus.InSync);
        syncer.KeyCount.Should().Be(2);
        syncer.WaitForInSyncAsync().IsCompletedSuccessfully.Should().BeTrue("it is in sync now");
    }

    [Fact]
    public async Task Wait_OnASyncerThatStopsBeforeItIsInSync_Throws()
    {
        await using var inner = new InMemoryBackend();
        var store = new FaultyBackend(inner, seed: 1) { Down = true };
        ISyncer syncer = store.CreateSyncer(Pods, new SyncerCallbacks());
        syncer.Start();
        Task waiting = syncer.WaitForInSyncAsync();

        await syncer.StopAsync();

        Func<Task> wait = () => Eventually.Within(waiting, "the wait ends with the stop");
        await wait.Should().ThrowAsync<InvalidOperationException>();
        Func<Task> later = () => syncer.WaitForInSyncAsync();
        await later.Should().ThrowAsync<InvalidOperationException>("a stopped syncer is not in sync, even if it was");
    }

    [Fact]
    public async Task Wait_AfterTheSyncerLeftInSync_WaitsForTheNextInSync()
    {
        await using var inner = new InMemoryBackend();
        var store = new FaultyBackend(inner, seed: 2, faultRate: 0);
        await using var syncer = new WatcherSyncer(store, Pods, new SyncerCallbacks(), new WatcherSyncerOptions
        {
            WatchRetryTimeout = TimeSpan.FromMilliseconds(200),
            ListRetryInterval = TimeSpan.FromMilliseconds(10),
            MinResyncInterval = TimeSpan.FromMilliseconds(10),
            Backoff = new BackoffOptions { InitialDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(50) },
        });
        syncer.Start();
        await Eventually.Within(syncer.WaitForInSyncAsync(), "the syncer is in sync");

        store.Down = true;
        await Eventually.True(() => syncer.Status == SyncStatus.WaitForDatastore, "the syncer has lost the datastore");
        Task waiting = syncer.WaitForInSyncAsync();
        waiting.IsCompleted.Should().BeFalse("the syncer is not in sync");

        store.Down = false;
        await Eventually.Within(waiting, "the syncer is in sync again");
    }

    [Fact]
    public async Task Wait_Cancelled_EndsTheWaitNotTheSyncer()
    {
        await using var inner = new InMemoryBackend();
        var store = new FaultyBackend(inner, seed: 3) { Down = true };
        await using ISyncer syncer = store.CreateSyncer(Pods, new SyncerCallbacks());
        syncer.Start();
        using var cancel = new CancellationTokenSource();
        Task waiting = syncer.WaitForInSyncAsync(cancel.Token);

        await cancel.CancelAsync();

        Func<Task> wait = () => Eventually.Within(waiting, "the wait ends on cancellation");
        await wait.Should().ThrowAsync<OperationCanceledException>();
        store.Down = false;
        await Eventually.Within(syncer.WaitForInSyncAsync(), "the syncer went on and is in sync");
    }
}
