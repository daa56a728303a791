using System.Text;
using FluentAssertions;
using WatcherSync.Etcd.Listing;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Etcd.Tests.Infrastructure.WatchReader;

namespace WatcherSync.Etcd.Tests.Listing;

/// <summary>A list read a page at a time with the next page in flight (EtcdListReader), against real etcd.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdListReaderTests(EtcdFixture etcd) : IAsyncLifetime
{
    private const int Keys = 5000;
    private const int PageSize = 200;
    private const int Pages = Keys / PageSize;
    private readonly string _prefix = $"/listing/{Guid.NewGuid():N}/";
    private EtcdBackendClient _writer = null!;

    public async Task InitializeAsync()
    {
        _writer = new EtcdBackendClient(etcd.Options());
        await RawGateway.PutManyAsync(etcd.Endpoint, Enumerable.Range(0, Keys).Select(i => (Key(i), Encoding.UTF8.GetBytes($"initial-{i}"))));
    }

    public async Task DisposeAsync() => await _writer.DisposeAsync();

    [Fact]
    public async Task ListPages_WritesBetweenPages_EveryKeyOnceInOrderAtTheFirstPagesRevision()
    {
        await using EtcdBackendClient client = Paged();
        var listed = new List<KVPair>();
        var revisions = new HashSet<string>(StringComparer.Ordinal);
        int pages = 0;
        await foreach (ListPage page in client.ListPagesAsync(new PrefixListOptions(_prefix)))
        {
            pages++;
            listed.AddRange(page.KVPairs);
            revisions.Add(page.Revision);

            // Between pages, change keys not read yet: an update, a delete and a new key, all after this page.
            int ahead = Math.Min(Keys - 1, pages * PageSize + 50);
            await _writer.ApplyAsync(new KVPair(new PathKey(Key(ahead)), $"changed-{pages}"));
            await _writer.DeleteAsync(new PathKey(Key(ahead + 1 < Keys ? ahead + 1 : 0)));
            await _writer.CreateAsync(new KVPair(new PathKey($"{Key(ahead)}-new{pages}"), "new"));
        }

        pages.Should().BeGreaterThanOrEqualTo(Pages, "the list is read in pages of 200");
        revisions.Should().ContainSingle("every page is at the revision of the first");
        string revision = revisions.Single();
        List<(string Key, string Value, long ModRevision)> expected = await RawGateway.RangeAsync(etcd.Endpoint, _prefix, Rev(revision));
        listed.Select(p => (p.Key.DefaultPath, Encoding.UTF8.GetString((byte[])p.Value!), Rev(p.Revision)))
            .Should().Equal(expected, "the pages together are exactly the state at the list's revision, each key once, in key order");
        (await RawGateway.RangeAsync(etcd.Endpoint, _prefix, 0)).Should().NotEqual(expected, "keys changed between the pages");
        KVPairList whole = await client.ListAsync(new PrefixListOptions(_prefix), revision);
        whole.KVPairs.Select(p => p.Key.DefaultPath).Should().Equal(listed.Select(p => p.Key.DefaultPath), "ListAsync is the same pages collected");
    }

    [Fact]
    public async Task ListPages_ConsumerHoldsAPage_OnlyTheNextPageIsRead()
    {
        await using EtcdBackendClient client = Paged();
        await using IAsyncEnumerator<ListPage> pages = client.ListPagesAsync(new PrefixListOptions(_prefix)).GetAsyncEnumerator();
        (await pages.MoveNextAsync()).Should().BeTrue();
        await Eventually.True(() => client.ListRequests.InFlight == 0, "the page ahead arrives");
        client.ListRequests.Sent.Should().Be(2, "while the consumer holds the first page, only the page after it is read");

        for (int held = 2; await pages.MoveNextAsync(); held++)
        {
            (long sent, int inFlight) = client.ListRequests;
            sent.Should().BeLessThanOrEqualTo(held + 1, "at most one page is read ahead of the page handed out");
            inFlight.Should().BeLessThanOrEqualTo(1);
        }

        client.ListRequests.Should().Be(((long)Pages, 0), "every page read once");
    }

    [Fact]
    public async Task ListPages_CancelledWhileAPageIsAhead_StopsTheReadAhead()
    {
        await using EtcdBackendClient client = Paged();
        using var cancel = new CancellationTokenSource();
        IAsyncEnumerator<ListPage> pages = client.ListPagesAsync(new PrefixListOptions(_prefix), cancellationToken: cancel.Token).GetAsyncEnumerator();
        (await pages.MoveNextAsync()).Should().BeTrue();
        client.ListRequests.Sent.Should().Be(2, "the second page is asked for with the first");

        await cancel.CancelAsync();
        Func<Task> next = async () => await pages.MoveNextAsync();
        await next.Should().ThrowAsync<OperationCanceledException>();
        await pages.DisposeAsync();
        client.ListRequests.Should().Be((2L, 0), "the read ahead ended with the list and nothing more was asked for");
    }

    [Fact]
    public async Task ListPages_ConsumerStopsEarly_EndsTheReadAhead()
    {
        await using EtcdBackendClient client = Paged();
        await foreach (ListPage page in client.ListPagesAsync(new PrefixListOptions(_prefix)))
        {
            page.KVPairs.Should().NotBeEmpty();
            break;
        }

        client.ListRequests.Should().Be((2L, 0), "leaving the list ends the read ahead before the enumerator's dispose returns");
    }

    [Fact]
    public async Task ListPages_PageAheadFailsOnCompaction_SurfacesTheListsOwnError()
    {
        await using EtcdBackendClient client = Paged();
        await using IAsyncEnumerator<ListPage> pages = client.ListPagesAsync(new PrefixListOptions(_prefix)).GetAsyncEnumerator();
        (await pages.MoveNextAsync()).Should().BeTrue();
        string revision = pages.Current.Revision;
        await Eventually.True(() => client.ListRequests.InFlight == 0, "the page ahead arrives");

        // Page 2 was read before the compaction; page 3 is asked for at the list's revision, now compacted.
        KVPair written = await _writer.ApplyAsync(new KVPair(new PathKey(_prefix + "~after"), "x"));
        await _writer.CompactAsync(written.Revision);
        (await pages.MoveNextAsync()).Should().BeTrue("the page read ahead before the compaction is handed out");
        Func<Task> third = async () => await pages.MoveNextAsync();
        RevisionExpiredException ahead = (await third.Should().ThrowAsync<RevisionExpiredException>("the page read ahead failed")).Which;

        Func<Task> whole = () => client.ListAsync(new PrefixListOptions(_prefix), revision);
        RevisionExpiredException listed = (await whole.Should().ThrowAsync<RevisionExpiredException>()).Which;
        ahead.Message.Should().Be(listed.Message, "a page ahead fails with the error a list at that revision gets");
        ahead.IsTransient.Should().Be(listed.IsTransient);
    }


    private EtcdBackendClient Paged()
    {
        EtcdClientOptions options = etcd.Options();
        options.ListPageSize = PageSize;
        return new EtcdBackendClient(options);
    }

    private string Key(int i) => $"{_prefix}k{i:D5}";
}
