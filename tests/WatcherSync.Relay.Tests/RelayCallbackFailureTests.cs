using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// A callback of a relay client that throws, with no logger configured: as for a direct syncer, the client goes on and
/// the failure is not silent (CallbackFailure, and WaitForInSyncAsync fails with it).
/// </summary>
public sealed class RelayCallbackFailureTests
{
    [Fact]
    public async Task ASinkThatThrows_WithNoLogger_FailsWaitForInSync_WithItsException_AndTheClientGoesOn()
    {
        await using var store = new InMemoryBackend();
        await store.CreateAsync(new KVPair(new PathKey("/calico/v1/host/a"), "1"));
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        var sink = new ThrowingOnceSink();
        InvalidOperationException boom = sink.Error;
        await using var syncer = new RelaySyncer(Relays.Client(relay.Address), sink);
        syncer.Start();

        Func<Task> wait = () => Eventually.Within(syncer.WaitForInSyncAsync(), "the wait ends");

        (await wait.Should().ThrowAsync<SyncerCallbackException>()).Which.InnerException.Should().BeSameAs(boom);
        ISyncer asSyncer = syncer;
        asSyncer.CallbackFailure.Should().NotBeNull("the first failure is kept where any ISyncer keeps it");
        asSyncer.CallbackFailure!.InnerException.Should().BeSameAs(boom);

        await store.CreateAsync(new KVPair(new PathKey("/calico/v1/host/b"), "1"));
        await Eventually.True(() => sink.Saw("/calico/v1/host/b"), "the client goes on after the failure");
    }
}
