using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Etcd.Tests.Listing;

/// <summary>
/// A value over the receive limit on a list's second page (lowered here to reach it with little data): every list
/// fails there, after its first page, for ever. The syncer can never sync.
/// </summary>
public sealed class ListFailingPastItsFirstPageTests
{
    private const int Limit = 32 * 1024;

    [Fact]
    public async Task AValueOverTheReceiveLimitOnTheSecondPage_SyncFailedAfterWatchRetryTimeout_AndNothingHandedOn()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        await RawGateway.PutManyAsync(etcd.ClientUrl, [("/big/a", "1"u8.ToArray()), ("/big/b", "1"u8.ToArray()), ("/big/c", new byte[40 * 1024])]);
        EtcdClientOptions options = TestOptions.For(etcd.ClientUrl);
        options.MaxReceiveMessageBytes = Limit;
        options.ListPageSize = 2;
        await using var client = new EtcdBackendClient(options);
        var callbacks = new RecordingCallbacks();
        await using var syncer = new WatcherSyncer(client, [new ResourceType(new PrefixListOptions("/big/"))], callbacks, new WatcherSyncerOptions
        {
            WatchRetryTimeout = TimeSpan.FromSeconds(2),
            MinResyncInterval = TimeSpan.FromMilliseconds(10),
            ListRetryInterval = TimeSpan.FromMilliseconds(10),
            Backoff = { InitialDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(100) },
        });
        syncer.Start();
        await Eventually.True(
            () => callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Any() && syncer.Status == SyncStatus.WaitForDatastore,
            $"no list can complete: after WatchRetryTimeout (2 s) the syncer must report SyncFailed and WaitForDatastore (status now {syncer.Status})",
            TimeSpan.FromSeconds(15));
        callbacks.Picture.Should().BeEmpty("a list is applied whole: the first page of a list that never completes is not handed on");
    }
}
