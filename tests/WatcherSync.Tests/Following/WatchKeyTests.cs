using FluentAssertions;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Tests.Following.Changes;

namespace WatcherSync.Tests.Following;

public sealed class WatchKeyTests
{
    [Fact]
    public async Task ChangeDuringAResync_IsYieldedOnceAtInSync()
    {
        var input = new LatestChanges();
        using var cts = new CancellationTokenSource();
        IAsyncEnumerator<KVPair?> e = BackendClientExtensions.FollowKeyAsync(input, "/k", cts.Token).GetAsyncEnumerator(cts.Token);
        try
        {
            input.OnUpdates([New("/k", "1")]);
            input.OnStatusUpdated(SyncStatus.InSync);
            (await e.MoveNextAsync()).Should().BeTrue();
            e.Current!.Value.Should().Be("1");

            // The consumer waits for the next value and looks at the resync and at the change made during it.
            ValueTask<bool> next = e.MoveNextAsync();
            int looks = input.Looks;
            input.OnStatusUpdated(SyncStatus.ResyncInProgress);
            await Eventually.True(() => input.Looks > looks, "the consumer sees the resync start");
            looks = input.Looks;
            input.OnUpdates([Updated("/k", "2")]);
            await Eventually.True(() => input.Looks > looks, "the consumer sees the change made during the resync");
            next.IsCompleted.Should().BeFalse("nothing is yielded while a resync is under way");

            input.OnStatusUpdated(SyncStatus.InSync);
            (await Eventually.Within(next.AsTask(), "the value current at InSync is yielded")).Should().BeTrue();
            e.Current!.Value.Should().Be("2");

            // Once: another InSync with no change yields nothing more.
            ValueTask<bool> after = e.MoveNextAsync();
            looks = input.Looks;
            input.OnStatusUpdated(SyncStatus.InSync);
            await Eventually.True(() => input.Looks > looks, "the consumer sees the repeated status");
            after.IsCompleted.Should().BeFalse();
            await cts.CancelAsync();
            (await after).Should().BeFalse();
            await e.DisposeAsync();
        }
        finally
        {
            // A failed step leaves a MoveNextAsync pending: cancelling ends it (disposing now would throw).
            await cts.CancelAsync();
        }
    }
}
