using FluentAssertions;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Testing.ScriptedBackend;
using static WatcherSync.Tests.Following.Changes;

namespace WatcherSync.Tests.Following;

public sealed class FollowerTests
{
    [Fact]
    public async Task Batch_NewAndUpdatedInKeyOrder_ThenDeletedInKeyOrder_ThenOneBatchDone()
    {
        var input = new LatestChanges();
        var calls = new List<string>();
        var follower = new SimpleFollower<KVPair>
        {
            FilterFn = kv => !((string)kv.Value!).StartsWith('-'),
            OnNewUpdated = (prev, cur) => Record(prev is null ? $"new {cur.Key} {cur.Value}" : $"updated {cur.Key} {prev.Value}->{cur.Value}"),
            OnDeleted = prev => Record($"deleted {prev.Key} {prev.Value}"),
            OnBatchDone = () => Record("done"),
        };

        input.OnStatusUpdated(SyncStatus.ResyncInProgress);
        input.OnUpdates([New("/c", "1"), New("/a", "1"), New("/b", "1"), New("/d", "-1")]);
        using var cts = new CancellationTokenSource();
        Task run = Follower.FollowAsync(input, follower, cts.Token);
        input.OnUpdates([Updated("/d", "-2")]);
        input.OnStatusUpdated(SyncStatus.InSync);
        await Eventually.True(() => Count("done") == 1, "the initial batch");
        Take().Should().Equal("new /a 1", "new /b 1", "new /c 1", "done");

        input.OnUpdates([Updated("/b", "2"), Deleted("/a"), New("/e", "1"), Deleted("/c"), Updated("/d", "3")]);
        await Eventually.True(() => Count("done") == 1, "the second batch");
        Take().Should().Equal("updated /b 1->2", "new /d 3", "new /e 1", "deleted /a 1", "deleted /c 1", "done");

        await cts.CancelAsync();
        await FluentActions.Awaiting(() => run).Should().ThrowAsync<OperationCanceledException>();

        ValueTask Record(string call)
        {
            lock (calls)
            {
                calls.Add(call);
            }

            return ValueTask.CompletedTask;
        }

        int Count(string call)
        {
            lock (calls)
            {
                return calls.Count(c => c == call);
            }
        }

        List<string> Take()
        {
            lock (calls)
            {
                List<string> taken = [.. calls];
                calls.Clear();
                return taken;
            }
        }
    }

    [Fact]
    public async Task Relist_UnchangedItemsGiveNoCalls_ChangedOnesGiveUpdatedOnly()
    {
        var backend = new ScriptedBackend { SyncerOptions = new WatcherSyncerOptions { MinResyncInterval = TimeSpan.Zero } };
        Script script = backend.For("/r/");
        script.List(10, Pair("/r/k1", "v1", 1), Pair("/r/k2", "v2", 2));
        ScriptedWatch first = script.Watch();
        var calls = new List<string>();
        int batches = 0;
        var follower = new SimpleFollower<KVPair>
        {
            OnNewUpdated = (prev, cur) => Record(prev is null ? $"new {cur.Key} {cur.Value}" : $"updated {cur.Key} {prev.Value}->{cur.Value}"),
            OnDeleted = prev => Record($"deleted {prev.Key}"),
            OnBatchDone = () =>
            {
                Interlocked.Increment(ref batches);
                return ValueTask.CompletedTask;
            },
        };
        using var cts = new CancellationTokenSource();
        Task run = Follower.RunAsync(backend, [new ResourceType(new PrefixListOptions("/r/"))], follower, cts.Token);
        await Eventually.True(() => Volatile.Read(ref batches) == 1, "the initial batch");

        // Compaction: a relist with a changed item.
        first.Error(new RevisionExpiredException("compacted"));
        script.List(20, Pair("/r/k1", "v1", 1), Pair("/r/k2", "v2b", 15));
        ScriptedWatch second = script.Watch();
        await Eventually.True(() => Volatile.Read(ref batches) == 2, "the batch after the first relist");

        // Compaction again: a relist with nothing changed, then one real change.
        second.Error(new RevisionExpiredException("compacted"));
        script.List(30, Pair("/r/k1", "v1", 1), Pair("/r/k2", "v2b", 15));
        ScriptedWatch third = script.Watch();
        await Eventually.True(() => script.WatchRevisions.Count == 3, "the cache watches after the second relist");
        third.Modified("/r/k1", "v1b", 31);
        await Eventually.True(() => Volatile.Read(ref batches) == 3, "the batch with the real change");

        lock (calls)
        {
            calls.Should().Equal("new /r/k1 v1", "new /r/k2 v2", "updated /r/k2 v2->v2b", "updated /r/k1 v1->v1b");
        }

        await cts.CancelAsync();
        await FluentActions.Awaiting(() => run).Should().ThrowAsync<OperationCanceledException>();

        ValueTask Record(string call)
        {
            lock (calls)
            {
                calls.Add(call);
            }

            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task ItemsHandedOut_AreNeverChangedAfterwards()
    {
        await using var store = new WatcherSync.InMemory.InMemoryBackend();
        await store.CreateAsync(new KVPair(new PathKey("/i/a"), "1"));
        var seen = new List<(KVPair Item, string Value, string? Revision)>();
        int batches = 0;
        var follower = new SimpleFollower<KVPair>
        {
            OnNewUpdated = (_, cur) =>
            {
                lock (seen)
                {
                    seen.Add((cur, (string)cur.Value!, cur.Revision));
                }

                return ValueTask.CompletedTask;
            },
            OnBatchDone = () =>
            {
                Interlocked.Increment(ref batches);
                return ValueTask.CompletedTask;
            },
        };
        using var cts = new CancellationTokenSource();
        Task run = Follower.RunAsync(store, [new ResourceType(new PrefixListOptions("/i/"))], follower, cts.Token);
        await Eventually.True(() => Volatile.Read(ref batches) == 1, "initial batch");
        for (int i = 2; i <= 5; i++)
        {
            await store.UpdateAsync(new KVPair(new PathKey("/i/a"), $"{i}"));
            int expected = i;
            await Eventually.True(() => { lock (seen) { return seen.Count == expected; } }, "each update");
        }

        lock (seen)
        {
            seen.Should().OnlyContain(s => (string)s.Item.Value! == s.Value && s.Item.Revision == s.Revision);
            seen.Select(s => s.Value).Should().Equal("1", "2", "3", "4", "5");
        }

        await cts.CancelAsync();
        await FluentActions.Awaiting(() => run).Should().ThrowAsync<OperationCanceledException>();
    }
}
