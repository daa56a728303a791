using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Tests.Syncing;

/// <summary>A backend that hands its list out in pages (<see cref="IPagedLister"/>): the syncer applies each as it comes.</summary>
public sealed class WatcherSyncerPagedListTests
{
    private static readonly WatcherSyncerOptions FastRetries = new()
    {
        MinResyncInterval = TimeSpan.FromMilliseconds(10),
        ListRetryInterval = TimeSpan.FromMilliseconds(10),
        Backoff = { InitialDelay = TimeSpan.FromMilliseconds(10), MaxDelay = TimeSpan.FromMilliseconds(50) },
    };

    [Fact]
    public async Task PagedList_FailsAfterTheFirstPage_TheRetryDeletesWhatItNoLongerSees()
    {
        await using var store = new InMemoryBackend();
        foreach (char name in "abcdefghij")
        {
            await store.CreateAsync(new KVPair(new PathKey($"/p/{name}"), "1"));
        }

        var backend = new PagedBackend(store, pageSize: 3) { FailAfterPages = 1 };
        var callbacks = new RecordingCallbacks();
        await using var syncer = new WatcherSyncer(backend, [new ResourceType(new PrefixListOptions("/p/"))], callbacks, FastRetries);
        backend.OnFailure = () => store.DeleteAsync(new PathKey("/p/b")).GetAwaiter().GetResult();
        syncer.Start();
        await Eventually.True(() => callbacks.LastStatus == SyncStatus.InSync, "the retried list completes");

        backend.Lists.Should().Be(2, "the first list failed after its first page");
        callbacks.AllUpdates.Take(3).Select(u => (u.KVPair.Key.DefaultPath, u.UpdateType))
            .Should().Equal([("/p/a", UpdateType.New), ("/p/b", UpdateType.New), ("/p/c", UpdateType.New)], "the first page reached the consumer before the list failed");
        callbacks.AllUpdates.Should().ContainSingle(u => u.KVPair.Key.DefaultPath == "/p/b" && u.UpdateType == UpdateType.Deleted, "the retry does not see b");
        callbacks.Picture.Keys.Order(StringComparer.Ordinal).Should().Equal("acdefghij".Select(c => $"/p/{c}"));
        callbacks.Statuses.Should().Equal([SyncStatus.ResyncInProgress, SyncStatus.InSync], "one resync, in sync only once the whole list is applied");
        callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task PagedList_ManyPages_EveryKeyOnceThenTheWatchFollows()
    {
        await using var store = new InMemoryBackend();
        for (int i = 0; i < 100; i++)
        {
            await store.CreateAsync(new KVPair(new PathKey($"/q/{i:D3}"), "1"));
        }

        var backend = new PagedBackend(store, pageSize: 7);
        var callbacks = new RecordingCallbacks();
        await using var syncer = new WatcherSyncer(backend, [new ResourceType(new PrefixListOptions("/q/"))], callbacks, FastRetries);
        syncer.Start();
        await Eventually.True(() => callbacks.LastStatus == SyncStatus.InSync, "in sync");
        await store.UpdateAsync(new KVPair(new PathKey("/q/050"), "2"));
        await Eventually.True(() => callbacks.AllUpdates.Count == 101, "the watch from the list's revision delivers the update");

        backend.PagesHandedOut.Should().Be(15, "100 keys in pages of 7");
        callbacks.AllUpdates.Take(100).Select(u => u.KVPair.Key.DefaultPath).Should().Equal(Enumerable.Range(0, 100).Select(i => $"/q/{i:D3}"));
        callbacks.AllUpdates[^1].UpdateType.Should().Be(UpdateType.Updated);
        callbacks.Violations.Should().BeEmpty();
    }

    /// <summary>Splits the inner backend's list into pages; can fail a list after a number of pages, once.</summary>
    private sealed class PagedBackend(IBackendClient inner, int pageSize) : DelegatingBackend(inner), IPagedLister
    {
        private int _lists;
        private int _pages;

        public int? FailAfterPages { get; set; }

        public Action? OnFailure { get; set; }

        public int Lists => Volatile.Read(ref _lists);

        public int PagesHandedOut => Volatile.Read(ref _pages);

        public async IAsyncEnumerable<ListPage> ListPagesAsync(IListOptions list, string? revision = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _lists);
            KVPairList whole = await Inner.ListAsync(list, revision, cancellationToken);
            int handed = 0;
            foreach (KVPair[] chunk in whole.KVPairs.Count == 0 ? [[]] : whole.KVPairs.Chunk(pageSize))
            {
                if (handed == FailAfterPages)
                {
                    FailAfterPages = null;
                    OnFailure?.Invoke();
                    throw new DatastoreUnavailableException("the connection broke between two pages");
                }

                handed++;
                Interlocked.Increment(ref _pages);
                yield return new ListPage(chunk, whole.Revision, handed == 1 ? whole.KVPairs.Count : 0);
            }
        }
    }
}
