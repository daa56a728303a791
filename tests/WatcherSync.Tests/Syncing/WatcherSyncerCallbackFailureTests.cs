using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Tests.Syncing;

/// <summary>A callback that throws, with no logger configured: the syncer goes on, and the failure is not silent.</summary>
public sealed class WatcherSyncerCallbackFailureTests
{
    private static readonly ResourceType[] Pods = [new ResourceType(new PrefixListOptions("/pods/"))];

    [Fact]
    public async Task ASinkThatThrows_WithNoLogger_FailsWaitForInSync_WithItsException()
    {
        await using var store = new InMemoryBackend();
        await store.CreateAsync(new KVPair(new PathKey("/pods/a"), "1"));
        var boom = new InvalidOperationException("the database is full");
        await using var syncer = new WatcherSyncer(store, Pods, new SyncerCallbacks { OnUpdates = _ => throw boom });
        syncer.Start();

        Func<Task> wait = () => Eventually.Within(syncer.WaitForInSyncAsync(), "the wait ends");

        (await wait.Should().ThrowAsync<SyncerCallbackException>()).Which.InnerException.Should().BeSameAs(boom);
    }

    [Fact]
    public async Task ASinkThatThrowsOnce_KeepsGettingUpdates_AndTheFailureStaysVisible()
    {
        await using var store = new InMemoryBackend();
        var sink = new ThrowingOnceSink();
        InvalidOperationException boom = sink.Error;
        await using var syncer = new WatcherSyncer(store, Pods, sink);
        syncer.Start();
        await store.CreateAsync(new KVPair(new PathKey("/pods/a"), "1"));
        await Eventually.True(() => syncer.CallbackFailure is not null, "the failure is kept");

        await store.CreateAsync(new KVPair(new PathKey("/pods/b"), "1"));

        await Eventually.True(() => sink.Saw("/pods/b"), "the syncer goes on after the failure");
        syncer.Status.Should().Be(SyncStatus.InSync, "the status is the datastore's, and the datastore is in sync");
        syncer.CallbackFailure!.InnerException.Should().BeSameAs(boom);
        Func<Task> laterWait = () => syncer.WaitForInSyncAsync();
        (await laterWait.Should().ThrowAsync<SyncerCallbackException>()).Which.InnerException.Should().BeSameAs(boom);
    }
}
