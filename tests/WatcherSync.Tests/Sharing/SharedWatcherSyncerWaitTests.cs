using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Tests.Sharing;

/// <summary>The shared syncer's callback failures, read through the <see cref="ISyncer"/> contract.</summary>
public sealed class SharedWatcherSyncerWaitTests
{
    [Fact]
    public async Task AHandlerThatThrew_FailsWaitForInSyncAsync_AsEveryISyncerPromises()
    {
        await using var store = new InMemoryBackend();
        await store.CreateAsync(new KVPair(new PathKey("/a/1"), "1"));
        await using var shared = new SharedWatcherSyncer(store, [new ResourceType(new PrefixListOptions("/a/"))]);
        var sink = new ThrowingOnceSink();
        await using SyncerHandlerRegistration registration = shared.AddHandler(sink);
        shared.Start();
        ISyncer syncer = shared;

        await Eventually.True(() => syncer.CallbackFailure is not null, "the handler threw on its first batch");
        await Eventually.Within(registration.WaitForSyncedAsync(), "the handler was told InSync");

        // ISyncer.CallbackFailure: "WaitForInSyncAsync fails with it from then on, so that it is seen without a logger".
        Func<Task> wait = () => Eventually.Within(syncer.WaitForInSyncAsync(), "the wait ends");
        (await wait.Should().ThrowAsync<SyncerCallbackException>("the syncer's CallbackFailure is set, and every ISyncer's wait fails with it"))
            .Which.Should().BeSameAs(syncer.CallbackFailure);
    }
}
