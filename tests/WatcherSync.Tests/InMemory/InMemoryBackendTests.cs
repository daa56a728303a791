using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Tests.InMemory;

public sealed class InMemoryBackendTests
{
    private static readonly PrefixListOptions All = new("/");

    [Fact]
    public async Task History_WhenFull_CompactsOldestAndKeepsRecentWatchable()
    {
        await using var store = new InMemoryBackend(new InMemoryBackendOptions { HistoryCapacity = 16 });
        KVPair first = await store.ApplyAsync(new KVPair(new PathKey("/a"), "0"));
        for (int i = 1; i < 40; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey("/a"), $"{i}"));
        }

        store.CompactRevision.Should().BeGreaterThan(long.Parse(first.Revision!, System.Globalization.CultureInfo.InvariantCulture));
        Func<Task> old = () => store.WatchAsync(All, new WatchOptions(first.Revision));
        await old.Should().ThrowAsync<RevisionExpiredException>();

        string recent = (store.Revision - 3).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using IWatch watch = await store.WatchAsync(All, new WatchOptions(recent));
        watch.Events.TryRead(out WatchEvent? e).Should().BeTrue();
        e!.New!.Value.Should().Be("37");
    }

    [Fact]
    public async Task Watch_ThatFallsBehindTheHistory_GetsRevisionExpiredAndEnds()
    {
        await using var store = new InMemoryBackend(new InMemoryBackendOptions { HistoryCapacity = 16 });
        await using IWatch watch = await store.WatchAsync(All, new WatchOptions());
        for (int i = 0; i < 100; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey($"/k{i}"), "v"));
        }

        watch.Events.TryRead(out WatchEvent? e).Should().BeTrue();
        e!.Type.Should().Be(WatchEventType.Error);
        e.Error.Should().BeOfType<RevisionExpiredException>();
        (await watch.Events.WaitToReadAsync()).Should().BeFalse();
    }

    [Fact]
    public async Task Compact_WithLiveCaughtUpWatch_LeavesItRunning()
    {
        await using var store = new InMemoryBackend();
        await using IWatch watch = await store.WatchAsync(All, new WatchOptions());
        KVPair kv = await store.ApplyAsync(new KVPair(new PathKey("/a"), "1"));
        watch.Events.TryRead(out _).Should().BeTrue();
        store.Compact(kv.Revision!);
        await store.ApplyAsync(new KVPair(new PathKey("/a"), "2"));
        watch.Events.TryRead(out WatchEvent? e).Should().BeTrue();
        e!.New!.Value.Should().Be("2");
    }

    [Fact]
    public async Task Compact_RemovesDeletedKeysAndOldVersions()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey("/a"), "1"));
        await store.DeleteAsync(new PathKey("/a"));
        await store.ApplyAsync(new KVPair(new PathKey("/b"), "1"));
        store.Compact(store.Revision);
        KVPairList list = await store.ListAsync(All);
        list.KVPairs.Select(p => p.Key.DefaultPath).Should().Equal("/b");
        store.Count.Should().Be(1);
        Func<Task> twice = () => Task.Run(() => store.Compact(store.Revision));
        await twice.Should().ThrowAsync<RevisionExpiredException>();
        Action future = () => store.Compact(store.Revision + 10);
        future.Should().Throw<RevisionTooLargeException>();
    }

    [Fact]
    public async Task Get_AtRetainedRevisions_AfterCompaction_SeesEachVersion()
    {
        await using var store = new InMemoryBackend();
        var key = new PathKey("/a");
        KVPair v1 = await store.ApplyAsync(new KVPair(key, "1"));
        KVPair v2 = await store.ApplyAsync(new KVPair(key, "2"));
        await store.DeleteAsync(key);
        long deleted = store.Revision;
        KVPair v3 = await store.ApplyAsync(new KVPair(key, "3"));
        KVPair v4 = await store.ApplyAsync(new KVPair(key, "4"));

        store.Compact(v2.Revision!);
        (await store.GetAsync(key, v2.Revision)).Value.Should().Be("2");
        Func<Task> gone = () => store.GetAsync(key, Rev(deleted));
        await gone.Should().ThrowAsync<ResourceNotFoundException>();
        (await store.GetAsync(key, v3.Revision)).Value.Should().Be("3");
        (await store.GetAsync(key, v4.Revision)).Value.Should().Be("4");

        // The version at the compaction point stays readable though its own event is gone.
        store.Compact(v3.Revision!);
        (await store.GetAsync(key, v3.Revision)).Value.Should().Be("3");
        (await store.ListAsync(All, v3.Revision)).KVPairs.Select(p => p.Value).Should().Equal("3");
        Func<Task> compacted = () => store.GetAsync(key, v1.Revision);
        await compacted.Should().ThrowAsync<RevisionExpiredException>();
    }

    [Fact]
    public async Task DeletePrefix_DeletesSubtreeInOneRevision()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey("/t/a"), "1"));
        await store.ApplyAsync(new KVPair(new PathKey("/t/b/c"), "2"));
        await store.ApplyAsync(new KVPair(new PathKey("/u"), "3"));
        await using IWatch watch = await store.WatchAsync(All, new WatchOptions());

        IReadOnlyList<KVPair> deleted = await store.DeletePrefixAsync("/t/");
        deleted.Select(p => p.Key.DefaultPath).Should().Equal("/t/a", "/t/b/c");
        (await store.DeletePrefixAsync("/t/")).Should().BeEmpty();

        var events = new List<WatchEvent>();
        while (watch.Events.TryRead(out WatchEvent? e))
        {
            events.Add(e);
        }

        events.Should().HaveCount(2).And.OnlyContain(e => e.Type == WatchEventType.Deleted);
        events.Select(e => e.Revision).Distinct().Should().ContainSingle();
        (await store.ListAsync(All)).KVPairs.Select(p => p.Key.DefaultPath).Should().Equal("/u");
    }

    [Fact]
    public async Task Ttl_RewriteWithoutTtl_CancelsExpiry()
    {
        var time = new FakeTimeProvider();
        await using var store = new InMemoryBackend(new InMemoryBackendOptions { TimeProvider = time });
        await store.ApplyAsync(new KVPair(new PathKey("/a"), "1") { Ttl = TimeSpan.FromSeconds(1) });
        await store.ApplyAsync(new KVPair(new PathKey("/a"), "2"));
        time.Advance(TimeSpan.FromSeconds(5));
        (await store.GetAsync(new PathKey("/a"))).Value.Should().Be("2");
    }

    [Fact]
    public async Task Ttl_KeysExpiringTogether_ShareOneRevision()
    {
        var time = new FakeTimeProvider();
        await using var store = new InMemoryBackend(new InMemoryBackendOptions { TimeProvider = time });
        await using IWatch watch = await store.WatchAsync(All, new WatchOptions());
        await store.ApplyAsync(new KVPair(new PathKey("/a"), "1") { Ttl = TimeSpan.FromSeconds(1) });
        await store.ApplyAsync(new KVPair(new PathKey("/b"), "1") { Ttl = TimeSpan.FromSeconds(1) });
        await store.ApplyAsync(new KVPair(new PathKey("/c"), "1") { Ttl = TimeSpan.FromSeconds(3) });
        time.Advance(TimeSpan.FromSeconds(2));
        store.Count.Should().Be(1);
        var deletes = new List<WatchEvent>();
        while (watch.Events.TryRead(out WatchEvent? e))
        {
            if (e.Type == WatchEventType.Deleted)
            {
                deletes.Add(e);
            }
        }

        deletes.Select(e => e.New!.Key.DefaultPath).Should().Equal("/a", "/b");
        deletes.Select(e => e.Revision).Distinct().Should().ContainSingle();
        time.Advance(TimeSpan.FromSeconds(2));
        store.Count.Should().Be(0);
    }

    [Fact]
    public async Task Dispose_EndsWatchesAndRejectsCalls()
    {
        var store = new InMemoryBackend();
        IWatch watch = await store.WatchAsync(All, new WatchOptions());
        Task<bool> waiting = watch.Events.WaitToReadAsync().AsTask();
        await store.DisposeAsync();
        await store.DisposeAsync();
        (await Eventually.Within(waiting, "dispose wakes a waiting watch")).Should().BeFalse();
        Func<Task> act = () => store.ApplyAsync(new KVPair(new PathKey("/a"), "1"));
        await act.Should().ThrowAsync<ObjectDisposedException>();
    }

    [Fact]
    public async Task WaitToRead_Cancelled_ThrowsOperationCanceled()
    {
        await using var store = new InMemoryBackend();
        await using IWatch watch = await store.WatchAsync(All, new WatchOptions());
        using var cts = new CancellationTokenSource();
        Task<bool> waiting = watch.Events.WaitToReadAsync(cts.Token).AsTask();
        await cts.CancelAsync();
        Func<Task> act = () => waiting;
        await act.Should().ThrowAsync<OperationCanceledException>();
        await store.ApplyAsync(new KVPair(new PathKey("/a"), "1"));
        (await watch.Events.WaitToReadAsync()).Should().BeTrue();
    }

    [Fact]
    public async Task List_OfManyKeys_IsSortedAndComplete()
    {
        await using var store = new InMemoryBackend();
        var random = new Random(7);
        var keys = Enumerable.Range(0, 5000).Select(_ => $"/r/{random.Next():x8}").Distinct().ToList();
        foreach (string key in keys)
        {
            await store.ApplyAsync(new KVPair(new PathKey(key), key));
        }

        KVPairList list = await store.ListAsync(new PrefixListOptions("/r/"));
        list.KVPairs.Select(p => p.Key.DefaultPath).Should().Equal(keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Watch_OnAnIdleStore_GetsABookmarkEveryBookmarkInterval()
    {
        var time = new FakeTimeProvider();
        await using var store = new InMemoryBackend(new InMemoryBackendOptions { TimeProvider = time, BookmarkInterval = TimeSpan.FromSeconds(1) });
        await store.ApplyAsync(new KVPair(new PathKey("/a"), "1"));
        await using IWatch watch = await store.WatchAsync(All, new WatchOptions(Rev(store.Revision), AllowWatchBookmarks: true));
        for (int tick = 1; tick <= 5; tick++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            WatchEvent bookmark = await ReadOneAsync(watch, $"the bookmark of quiet interval {tick}");
            bookmark.Type.Should().Be(WatchEventType.Bookmark, "an idle watch hears from the store every interval, as etcd's progress notifications do");
            bookmark.Revision.Should().Be(Rev(store.Revision));
        }
    }

    [Fact]
    public async Task Watch_IdleThroughBookmarkTicks_IsRegisteredAsAWaiterAtMostOnceAndNotAfterDispose()
    {
        var time = new FakeTimeProvider();
        await using var store = new InMemoryBackend(new InMemoryBackendOptions { TimeProvider = time, BookmarkInterval = TimeSpan.FromSeconds(1) });
        await store.ApplyAsync(new KVPair(new PathKey("/a"), "1"));
        IWatch watch = await store.WatchAsync(All, new WatchOptions(AllowWatchBookmarks: true));
        for (int tick = 1; tick <= 20; tick++)
        {
            // A reader starts waiting (which registers the watch), gives up, and a bookmark tick passes in a quiet
            // store. Cancelling keeps the steps in order on this thread; a reader that keeps waiting re-registers
            // the same way, only on another thread. The bookmark the last quiet interval brought is read first.
            while (watch.Events.TryRead(out WatchEvent? quiet))
            {
                quiet.Type.Should().Be(WatchEventType.Bookmark);
            }

            using var cts = new CancellationTokenSource();
            Task<bool> wait = watch.Events.WaitToReadAsync(cts.Token).AsTask();
            await cts.CancelAsync();
            await FluentActions.Awaiting(() => wait).Should().ThrowAsync<OperationCanceledException>();
            time.Advance(TimeSpan.FromSeconds(1));
            store.WaiterCount.Should().BeLessThanOrEqualTo(1, $"one watch is registered at most once (after {tick} quiet bookmark intervals)");
        }

        // Still woken by the next write.
        while (watch.Events.TryRead(out WatchEvent? quiet))
        {
            quiet.Type.Should().Be(WatchEventType.Bookmark);
        }

        Task<bool> woken = watch.Events.WaitToReadAsync().AsTask();
        store.WaiterCount.Should().Be(1);
        await store.ApplyAsync(new KVPair(new PathKey("/a"), "2"));
        (await Eventually.Within(woken, "a write wakes the waiting watch")).Should().BeTrue();
        watch.Events.TryRead(out WatchEvent? written).Should().BeTrue();
        written!.New!.Value.Should().Be("2");

        Task<bool> pending = watch.Events.WaitToReadAsync().AsTask();
        store.WaiterCount.Should().Be(1);
        await watch.DisposeAsync();
        store.WaiterCount.Should().Be(0, "a disposed watch is no longer referenced by the store");
        (await Eventually.Within(pending, "dispose ends the wait")).Should().BeFalse();
        (await watch.Events.WaitToReadAsync()).Should().BeFalse();
        store.WaiterCount.Should().Be(0, "waiting on a disposed watch registers nothing");
    }

    // Not in the backend contract: etcd itself stays silent until a future start revision is reached (as here), but
    // the etcd backend checks the member's revision when its watch is created and reports a start revision beyond it
    // as a wiped store (DatastoreResetException).
    [Fact]
    public async Task Watch_FromFutureRevision_DeliversNothingUntilThatRevisionIsPassed()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey("/a"), "0"));
        long start = store.Revision + 8;
        await using IWatch watch = await store.WatchAsync(All, new WatchOptions(Rev(start), AllowWatchBookmarks: true));
        for (int i = 1; i <= 3; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey("/a"), $"{i}"));
        }

        watch.Events.TryRead(out WatchEvent? early).Should().BeFalse($"revision {store.Revision} is not after {start} (got {early?.Type} at {early?.Revision})");

        while (store.Revision < start + 2)
        {
            await store.ApplyAsync(new KVPair(new PathKey("/a"), $"{store.Revision}"));
        }

        var revisions = new List<long>();
        while (watch.Events.TryRead(out WatchEvent? e))
        {
            revisions.Add(long.Parse(e.Revision!, System.Globalization.CultureInfo.InvariantCulture));
        }

        revisions.Should().Equal(start + 1, start + 2);
    }

    [Fact]
    public async Task Watch_FromFutureRevision_SurvivesCompactionOfTheRevisionsBeforeIt()
    {
        await using var store = new InMemoryBackend(new InMemoryBackendOptions { HistoryCapacity = 16 });
        long start = store.Revision + 100;
        await using IWatch watch = await store.WatchAsync(All, new WatchOptions(Rev(start)));
        while (store.Revision < start - 10)
        {
            await store.ApplyAsync(new KVPair(new PathKey("/a"), $"{store.Revision}"));
        }

        store.CompactRevision.Should().BeGreaterThan(1, "the small history compacted itself");
        watch.Events.TryRead(out WatchEvent? early).Should().BeFalse($"nothing is after {start} yet (got {early?.Type} at {early?.Revision}: {early?.Error?.Message})");

        while (store.Revision < start + 1)
        {
            await store.ApplyAsync(new KVPair(new PathKey("/a"), $"{store.Revision}"));
        }

        watch.Events.TryRead(out WatchEvent? first).Should().BeTrue();
        (first!.Type, first.Revision).Should().Be((WatchEventType.Modified, Rev(start + 1)));
    }

    [Fact]
    public async Task Ttl_KeysRewrittenWithTtl_KeepOneDeadlineEach()
    {
        var time = new FakeTimeProvider();
        await using var store = new InMemoryBackend(new InMemoryBackendOptions { TimeProvider = time });
        PathKey[] keys = [.. Enumerable.Range(0, 5).Select(i => new PathKey($"/t{i}"))];
        for (int round = 0; round < 50; round++)
        {
            foreach (PathKey key in keys)
            {
                await store.ApplyAsync(new KVPair(key, $"{round}") { Ttl = TimeSpan.FromSeconds(10) });
            }

            time.Advance(TimeSpan.FromMilliseconds(100));
        }

        store.PendingExpiryCount.Should().Be(5, "the queue holds one deadline per live key with a time to live, whatever the write rate");

        await store.ApplyAsync(new KVPair(keys[0], "kept"));
        await store.DeleteAsync(keys[1]);
        store.PendingExpiryCount.Should().Be(3, "a key rewritten without a time to live, or deleted, has no deadline");

        await store.ApplyAsync(new KVPair(keys[2], "short") { Ttl = TimeSpan.FromSeconds(1) });
        store.PendingExpiryCount.Should().Be(3);
        time.Advance(TimeSpan.FromSeconds(2));
        (await store.ListAsync(All)).KVPairs.Select(p => p.Key.DefaultPath).Should().Equal("/t0", "/t3", "/t4");
        store.PendingExpiryCount.Should().Be(2);

        // Past the deadlines of the first writes, not of the last ones: only the last write counts.
        time.Advance(TimeSpan.FromSeconds(4));
        (await store.ListAsync(All)).KVPairs.Select(p => p.Key.DefaultPath).Should().Equal("/t0", "/t3", "/t4");
        time.Advance(TimeSpan.FromSeconds(4));
        (await store.ListAsync(All)).KVPairs.Select(p => p.Key.DefaultPath).Should().Equal("/t0");
        store.PendingExpiryCount.Should().Be(0);
    }

    [Fact]
    public async Task History_AfterAOneRevisionBurst_ShrinksBackToItsCapacity()
    {
        await using var store = new InMemoryBackend(new InMemoryBackendOptions { HistoryCapacity = 16 });
        for (int i = 0; i < 100; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey($"/b/{i:D3}"), "v"));
        }

        await using IWatch watch = await store.WatchAsync(All, new WatchOptions());
        await store.DeletePrefixAsync("/b/");
        store.History.Capacity.Should().BeGreaterThanOrEqualTo(100, "one revision's events are all retained");
        var deleted = new List<WatchEvent>();
        while (watch.Events.TryRead(out WatchEvent? e))
        {
            deleted.Add(e);
        }

        deleted.Should().HaveCount(100).And.OnlyContain(e => e.Type == WatchEventType.Deleted);

        var after = new List<object?>();
        for (int i = 0; i < 20; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey("/after"), $"{i}"));
            while (watch.Events.TryRead(out WatchEvent? e))
            {
                after.Add(e.New?.Value);
            }
        }

        store.History.Capacity.Should().Be(16, "the history gives the burst's room back once the burst is compacted");
        (store.History.Head - store.History.Tail).Should().BeLessThanOrEqualTo(16);
        after.Should().Equal(Enumerable.Range(0, 20).Select(i => (object)$"{i}"), "a watch that keeps up sees every write across the shrink");
    }

    private static string Rev(long revision) => revision.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<WatchEvent> ReadOneAsync(IWatch watch, string because)
    {
        using var deadline = new CancellationTokenSource(Eventually.DefaultTimeout);
        try
        {
            while (await watch.Events.WaitToReadAsync(deadline.Token))
            {
                if (watch.Events.TryRead(out WatchEvent? watchEvent))
                {
                    return watchEvent;
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException($"Nothing read in time: {because}");
        }

        throw new InvalidOperationException($"The watch ended: {because}");
    }
}
