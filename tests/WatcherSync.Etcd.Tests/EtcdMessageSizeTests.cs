using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using Xunit;
using static WatcherSync.Etcd.Tests.Infrastructure.WatchReader;

namespace WatcherSync.Etcd.Tests;

/// <summary>
/// Replies over the receive limit (lowered here to reach it with little data): lists ask again in smaller pages,
/// watches get large revisions in etcd's fragments, and a reply that cannot fit is never retried for ever.
/// </summary>
public sealed class EtcdMessageSizeTests
{
    private const int Limit = 32 * 1024;
    private static readonly string Kilobyte = new('v', 1024);

    [Fact]
    public async Task List_PageOverTheReceiveLimit_IsAskedForInSmallerPages()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        await RawGateway.PutManyAsync(etcd.ClientUrl, Enumerable.Range(0, 100).Select(i => ($"/big/k{i:D3}", System.Text.Encoding.UTF8.GetBytes(Kilobyte))));
        EtcdClientOptions options = TestOptions.For(etcd.ClientUrl);
        options.MaxReceiveMessageBytes = Limit;
        await using var client = new EtcdBackendClient(options);

        KVPairList list = await client.ListAsync(new PrefixListOptions("/big/"));

        list.KVPairs.Select(p => p.Key.DefaultPath).Should().Equal(Enumerable.Range(0, 100).Select(i => $"/big/k{i:D3}"));
    }

    [Fact]
    public async Task Watch_RevisionOverTheReceiveLimit_EndsWithAPermanentErrorInsteadOfRetryingForEver()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        EtcdClientOptions options = TestOptions.For(etcd.ClientUrl);
        options.MaxReceiveMessageBytes = Limit;
        await using var client = new EtcdBackendClient(options);
        KVPairList start = await client.ListAsync(new PrefixListOptions("/big/"));
        await using IWatch watch = await client.WatchAsync(new PrefixListOptions("/big/"), new WatchOptions(start.Revision));

        // One transaction: one revision of about 60 KB, below etcd's fragment size (1.5 MB) but over the limit.
        await RawGateway.PutManyAsync(etcd.ClientUrl, Enumerable.Range(0, 60).Select(i => ($"/big/k{i:D3}", System.Text.Encoding.UTF8.GetBytes(Kilobyte))));

        Exception error = await ErrorAsync(watch);
        error.Should().BeAssignableTo<DatastoreException>().Which.IsTransient.Should().BeFalse("the same revision would be too large on every retry");
        error.Message.Should().Contain("larger than the limit of 32 KB");
        (await watch.Events.Completion.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(t => t.IsCompletedSuccessfully)).Should().BeTrue("the watch ends after the error");
    }

    [Fact]
    public async Task Watch_RevisionOverTheReceiveLimit_FailsOnlyItsWatch_TheOthersOnTheStreamGoOn()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        EtcdClientOptions options = TestOptions.For(etcd.ClientUrl);
        options.MaxReceiveMessageBytes = Limit;
        await using var client = new EtcdBackendClient(options);
        KVPairList start = await client.ListAsync(new PrefixListOptions("/big/"));
        await using IWatch big = await client.WatchAsync(new PrefixListOptions("/big/"), new WatchOptions(start.Revision));
        IWatch[] others = await Task.WhenAll(Enumerable.Range(0, 7).Select(i => client.WatchAsync(new PrefixListOptions($"/small{i}/"), new WatchOptions(start.Revision))));
        try
        {
            await RawGateway.PutManyAsync(etcd.ClientUrl, Enumerable.Range(0, 60).Select(i => ($"/big/k{i:D3}", System.Text.Encoding.UTF8.GetBytes(Kilobyte))));
            Exception error = await ErrorAsync(big);
            error.Message.Should().Contain("larger than the limit of 32 KB");

            for (int i = 0; i < others.Length; i++)
            {
                await client.CreateAsync(new KVPair(new PathKey($"/small{i}/k"), "v"));
                List<WatchEvent> events = await ReadAsync(others[i], 1);
                events[0].New!.Key.DefaultPath.Should().Be($"/small{i}/k", "a watch that did not receive the large revision goes on");
            }
        }
        finally
        {
            foreach (IWatch w in others)
            {
                await w.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Watch_RevisionOverTheReceiveLimit_ArrivesInEtcdsFragments()
    {
        // etcd fragments watch responses larger than --max-request-bytes plus 512 KB of gRPC overhead: 640 KB here.
        await using EtcdProcess etcd = await EtcdProcess.StartAsync(extraArguments: ["--max-request-bytes", "131072"]);
        await RawGateway.PutManyAsync(etcd.ClientUrl, Enumerable.Range(0, 2000).Select(i => ($"/big/k{i:D4}", System.Text.Encoding.UTF8.GetBytes(Kilobyte))));
        EtcdClientOptions options = TestOptions.For(etcd.ClientUrl);
        options.MaxReceiveMessageBytes = 1024 * 1024;
        await using var client = new EtcdBackendClient(options);
        KVPairList start = await client.ListAsync(new PrefixListOptions("/big/"));
        await using IWatch watch = await client.WatchAsync(new PrefixListOptions("/big/"), new WatchOptions(start.Revision));

        // One small request, one revision of 2,000 deletes with their previous values: about 2 MB of events.
        await RawGateway.DeletePrefixAsync(etcd.ClientUrl, "/big/");

        List<WatchEvent> events = await ReadAsync(watch, 2000);
        events.Should().OnlyContain(e => e.Type == WatchEventType.Deleted && e.Old != null);
        events.Select(e => e.Revision).Distinct().Should().ContainSingle("all deletes are one revision, delivered whole");
    }
}
