using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Tests.Syncing;

/// <summary>The syncer says, long before WatchRetryTimeout, that it cannot reach the datastore, while its status stays InSync.</summary>
public sealed class WatcherSyncerUnreachableTests
{
    [Fact]
    public async Task DatastoreDown_UnreachableForGrows_WhileTheStatusStaysInSync_AndClearsWhenItIsBack()
    {
        await using var inner = new InMemoryBackend();
        var store = new FaultyBackend(inner, seed: 4, faultRate: 0);
        await using var syncer = new WatcherSyncer(store, [new ResourceType(new PrefixListOptions("/a/"))], new SyncerCallbacks(), new WatcherSyncerOptions
        {
            ListRetryInterval = TimeSpan.FromMilliseconds(10),
            MinResyncInterval = TimeSpan.FromMilliseconds(10),
            Backoff = new BackoffOptions { InitialDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(50) },
        });
        syncer.Start();
        await Eventually.Within(syncer.WaitForInSyncAsync(), "the syncer is in sync");
        syncer.DatastoreUnreachableFor.Should().BeNull("it is in contact");

        store.Down = true;
        await Eventually.True(() => syncer.DatastoreUnreachableFor >= TimeSpan.FromMilliseconds(300), "the syncer says it cannot reach the datastore");
        syncer.Status.Should().Be(SyncStatus.InSync, "WatchRetryTimeout (10 min) has not passed");

        store.Down = false;
        await Eventually.True(() => syncer.DatastoreUnreachableFor is null, "the syncer is back in contact");
    }
}
