using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Testing.ScriptedBackend;

namespace WatcherSync.Tests.Syncing;

public sealed partial class WatcherSyncerTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedBackend _backend = new();
    private readonly RecordingCallbacks _callbacks = new();
    private WatcherSyncer? _syncer;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _callbacks.UpdatesGate?.Set();
        if (_syncer is not null)
        {
            await _syncer.DisposeAsync();
        }

        _callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task Start_ThreeCaches_ResyncInProgressOnFirstListAndInSyncOnlyAfterTheThird()
    {
        Start("/a/", "/b/", "/c/");
        _backend.For("/a/").List(10, Pair("/a/1", "x", 5));
        await Until(() => _callbacks.AllUpdates.Count == 1, "the first cache's key arrives");
        _callbacks.Statuses.Should().Equal(SyncStatus.ResyncInProgress);

        _backend.For("/b/").List(10, Pair("/b/1", "x", 6));
        await Until(() => _callbacks.AllUpdates.Count == 2, "the second cache's key arrives");
        _callbacks.Statuses.Should().Equal(SyncStatus.ResyncInProgress);

        _backend.For("/c/").List(10);
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync, "all three caches are in sync");
        _callbacks.Calls.First().Should().Be(SyncStatus.ResyncInProgress, "WaitForDatastore is never announced first");
        _callbacks.Statuses.Should().Equal(SyncStatus.ResyncInProgress, SyncStatus.InSync);
        _callbacks.Calls.Last().Should().Be(SyncStatus.InSync);
    }

    [Fact]
    public async Task InSync_AWriteRightAfter_IsDeliveredWithoutTheClockMoving()
    {
        Script a = _backend.For("/a/");
        a.List(10, Pair("/a/k1", "1", 1));
        ScriptedWatch watch = a.Watch();
        Start("/a/");

        // The fake clock never moves in this test: nothing may wait on it after a successful list.
        await Eventually.True(() => _callbacks.LastStatus == SyncStatus.InSync, "the list is applied and the syncer in sync");
        watch.Added("/a/k2", "2", 11);
        await Eventually.True(() => _callbacks.AllUpdates.Count == 2, "the write after InSync is delivered", TimeSpan.FromSeconds(5));
        a.WatchRevisions.Should().Equal("10");
    }

    [Fact]
    public async Task Compaction_Relists_EmitsOnlyTheDifference()
    {
        Script a = _backend.For("/a/");
        Start("/a/");
        a.List(10, Pair("/a/k1", "1", 1), Pair("/a/k2", "2", 2), Pair("/a/k3", "3", 3));
        ScriptedWatch first = a.Watch();
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync, "the first sync completes");
        _callbacks.AllUpdates.Select(u => (u.KVPair.Key.DefaultPath, u.UpdateType))
            .Should().Equal(("/a/k1", UpdateType.New), ("/a/k2", UpdateType.New), ("/a/k3", UpdateType.New));

        first.Error(new RevisionExpiredException("compacted"));
        a.List(20, Pair("/a/k1", "1", 1), Pair("/a/k3", "3", 3), Pair("/a/k4", "4", 15));
        ScriptedWatch second = a.Watch();
        await Until(() => a.WatchRevisions.Count == 2 && _callbacks.Statuses.Count == 4, "the cache relists, is in sync and watches again");
        _callbacks.Statuses.Should().Equal(SyncStatus.ResyncInProgress, SyncStatus.InSync, SyncStatus.ResyncInProgress, SyncStatus.InSync);
        _callbacks.AllUpdates.Skip(3).Select(u => (u.KVPair.Key.DefaultPath, u.UpdateType))
            .Should().Equal(("/a/k4", UpdateType.New), ("/a/k2", UpdateType.Deleted));
        a.WatchRevisions.Should().Equal("10", "20");

        second.Modified("/a/k4", "4b", 21);
        await Until(() => _callbacks.AllUpdates.Count == 6, "the modification arrives");
        _callbacks.AllUpdates[^1].Should().Be(new Update(Pair("/a/k4", "4b", 21), UpdateType.Updated));

        second.Modified("/a/k4", "4b", 21);
        second.Modified("/a/k1", "1b", 22);
        await Until(() => _callbacks.AllUpdates.Count == 7, "the next modification arrives");
        _callbacks.AllUpdates[^1].KVPair.Key.DefaultPath.Should().Be("/a/k1", "the repeated event with the same revision was swallowed");
    }

    [Fact]
    public async Task DatastoreReset_Relists_ResendsEveryKeyEvenAtAnEqualRevision()
    {
        Script a = _backend.For("/a/");
        Start("/a/");
        a.List(10, Pair("/a/k1", "1", 5), Pair("/a/k2", "2", 7));
        ScriptedWatch first = a.Watch();
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync, "the first sync completes");

        // The wiped store was written again: k1 happens to sit at revision 5 again, with another value.
        first.Error(new DatastoreResetException("store went backwards"));
        a.List(6, Pair("/a/k1", "other", 5), Pair("/a/k3", "3", 6));
        ScriptedWatch second = a.Watch();
        await Until(() => a.WatchRevisions.Count == 2 && _callbacks.Statuses.Count == 4, "the cache relists and is in sync again");
        _callbacks.AllUpdates.Skip(2).Select(u => (u.KVPair.Key.DefaultPath, u.UpdateType, u.KVPair.Value))
            .Should().Equal(("/a/k1", UpdateType.Updated, "other"), ("/a/k3", UpdateType.New, "3"), ("/a/k2", UpdateType.Deleted, null));
        a.WatchRevisions.Should().Equal("10", "6");

        // Only the relist after the reset ignores revisions: a repeat on the new watch is still swallowed.
        second.Modified("/a/k3", "3", 6);
        second.Modified("/a/k1", "1c", 8);
        await Until(() => _callbacks.AllUpdates.Count == 6, "the next modification arrives");
        _callbacks.AllUpdates[^1].KVPair.Key.DefaultPath.Should().Be("/a/k1");
    }

    [Fact]
    public async Task WatchError_AfterBookmark_RewatchesFromTheBookmarkWithoutRelist()
    {
        Script a = _backend.For("/a/");
        Start("/a/");
        a.List(10, Pair("/a/k1", "1", 1));
        ScriptedWatch watch = a.Watch();
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync, "in sync");
        watch.Bookmark(40);
        watch.Error(new DatastoreException("stream broke"));
        ScriptedWatch next = a.Watch();
        await Until(() => a.WatchRevisions.Count == 2, "the cache watches again");
        a.WatchRevisions.Should().Equal("10", "40");
        a.ListCalls.Should().Be(1);
        next.Added("/a/k2", "2", 41);
        await Until(() => _callbacks.AllUpdates.Count == 2, "the new key arrives");
        _callbacks.Statuses.Should().Equal(SyncStatus.ResyncInProgress, SyncStatus.InSync);
    }

    [Fact]
    public async Task WatchEnded_ResumesFromLastCompleteRevision_AndSwallowsTheRepeats()
    {
        Script a = _backend.For("/a/");
        Start("/a/");
        a.List(10);
        ScriptedWatch watch = a.Watch();
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync, "in sync");
        watch.Added("/a/k1", "v", 12);
        watch.Added("/a/k2", "v", 13);
        watch.Deleted("/a/k1", 13);
        watch.End();
        ScriptedWatch again = a.Watch();
        await Until(() => a.WatchRevisions.Count == 2, "the cache watches again");

        // Revision 13 may have had more events than the ones seen: resume after 12 and see 13 again.
        a.WatchRevisions.Should().Equal("10", "12");
        again.Added("/a/k2", "v", 13);
        again.Deleted("/a/k1", 13);
        again.Added("/a/k3", "v", 13);
        again.Added("/a/k4", "v", 14);
        await Until(() => _callbacks.AllUpdates.Count == 5, "the new events arrive");
        _callbacks.AllUpdates.Select(u => (u.KVPair.Key.DefaultPath, u.UpdateType)).Should().Equal(
            ("/a/k1", UpdateType.New), ("/a/k2", UpdateType.New), ("/a/k1", UpdateType.Deleted), ("/a/k3", UpdateType.New), ("/a/k4", UpdateType.New));
        a.ListCalls.Should().Be(1);
    }

    [Fact]
    public async Task ConnectionRefused_TenTimes_RetriesSameRevisionWithoutCounting()
    {
        Script a = _backend.For("/a/");
        Start("/a/");
        a.List(10, Pair("/a/k1", "1", 1));
        for (int i = 0; i < 10; i++)
        {
            a.WatchFails(new DatastoreUnavailableException("connection refused"));
        }

        a.Watch();
        await Until(() => a.WatchRevisions.Count == 11, "the cache retried ten times and watched");
        a.WatchRevisions.Should().OnlyContain(r => r == "10");
        a.ListCalls.Should().Be(1);
        _callbacks.Statuses.Should().Equal(SyncStatus.ResyncInProgress, SyncStatus.InSync);
    }

    [Fact]
    public async Task UnknownWatchErrors_Five_TriggerRelist()
    {
        Script a = _backend.For("/a/");
        Start("/a/");
        a.List(10, Pair("/a/k1", "1", 1));
        for (int i = 0; i < 4; i++)
        {
            a.WatchFails(new InvalidOperationException($"odd failure {i}"));
        }

        await Until(() => a.WatchRevisions.Count == 5, "four failed watches, and the fifth waiting");
        a.ListCalls.Should().Be(1, "four errors are not enough to relist");
        a.WatchFails(new DatastoreException("fifth"));
        await Until(() => a.ListCalls == 2, "the fifth error relists");
        a.List(30, Pair("/a/k1", "1", 1));
        a.Watch();
        await Until(() => a.WatchRevisions.Count == 6 && _callbacks.Statuses.Count == 4, "the cache relists, is in sync and watches again");
        a.WatchRevisions.Last().Should().Be("30");
        _callbacks.Statuses.Should().Equal(SyncStatus.ResyncInProgress, SyncStatus.InSync, SyncStatus.ResyncInProgress, SyncStatus.InSync);
        _callbacks.AllUpdates.Should().ContainSingle("an unchanged key is not sent again");
    }

    [Fact]
    public async Task WatchNotSupported_PollsEveryWatchPollInterval_StatusStaysInSync()
    {
        Script a = _backend.For("/a/");
        Start("/a/");
        a.List(10, Pair("/a/k1", "1", 1));
        a.WatchFails(new OperationNotSupportedException("no watch here"));
        await Until(() => a.WatchRevisions.Count == 1 && a.ListCalls == 1, "the first watch is refused");

        // The next list comes only after the poll interval.
        _time.Advance(TimeSpan.FromSeconds(4));
        await Task.Yield();
        a.ListCalls.Should().Be(1);
        _time.Advance(TimeSpan.FromSeconds(1.5));
        await Until(() => a.ListCalls == 2, "the first poll");
        a.List(20, Pair("/a/k1", "1b", 11), Pair("/a/k2", "2", 12));
        await Until(() => _callbacks.AllUpdates.Count == 3, "the poll's changes arrive");
        a.List(30, Pair("/a/k2", "2", 12));
        await Until(() => _callbacks.AllUpdates.Count == 4, "the second poll's changes arrive");

        _callbacks.AllUpdates.Select(u => (u.KVPair.Key.DefaultPath, u.UpdateType)).Should().Equal(
            ("/a/k1", UpdateType.New), ("/a/k1", UpdateType.Updated), ("/a/k2", UpdateType.New), ("/a/k1", UpdateType.Deleted));
        _callbacks.Statuses.Should().Equal(SyncStatus.ResyncInProgress, SyncStatus.InSync);
        a.WatchRevisions.Should().ContainSingle("a resource that cannot be watched is not watched again");
    }

    [Fact]
    public async Task BlockedCallbacks_UpdatesFromTwoCachesArrivingMeanwhile_ComeAsOneBatch()
    {
        Script a = _backend.For("/a/");
        Script b = _backend.For("/b/");
        Start("/a/", "/b/");
        a.List(10, Pair("/a/k1", "1", 1));
        b.List(10, Pair("/b/k1", "1", 1));
        ScriptedWatch wa = a.Watch();
        ScriptedWatch wb = b.Watch();
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync && a.WatchRevisions.Count == 1 && b.WatchRevisions.Count == 1, "in sync and watching");
        int batchesBefore = _callbacks.UpdateBatches.Count;
        int entered = _callbacks.UpdatesEntered;

        using var gate = new ManualResetEventSlim(false);
        _callbacks.UpdatesGate = gate;
        wa.Added("/a/blocker", "x", 11);
        await Until(() => _callbacks.UpdatesEntered == entered + 1, "the syncer is inside OnUpdates");
        wa.Added("/a/k2", "2", 12);
        wb.Modified("/b/k1", "1b", 13);
        wb.Added("/b/k2", "2", 14);

        // The key count moves only once a cache has handed its batch to the syncer loop.
        await Until(() => _syncer!.KeyCount == 5, "both caches handed their events over");
        gate.Set();
        await Until(() => _callbacks.AllUpdates.Count == 6, "everything is delivered");

        Update[][] batches = _callbacks.UpdateBatches.Skip(batchesBefore).ToArray();
        batches.Should().HaveCount(2);
        batches[0].Select(u => u.KVPair.Key.DefaultPath).Should().Equal("/a/blocker");
        batches[1].Select(u => u.KVPair.Key.DefaultPath).Should().BeEquivalentTo(["/a/k2", "/b/k1", "/b/k2"]);
    }

    [Fact]
    public async Task Processor_ZeroOneTwoPairsAndErrors_GroupsUpdatesAndReportsParseFailures()
    {
        var processor = new SplittingProcessor();
        Script a = _backend.For("/a/");
        Start(new ResourceType(new PrefixListOptions("/a/"), processor));
        a.List(10, Pair("/a/none", "", 1), Pair("/a/one", "x", 2), Pair("/a/two", "y,z", 3), Pair("/a/bad", "!", 4), Pair("/a/boom", "?", 5), Pair("/a/last", "w", 6));
        ScriptedWatch watch = a.Watch();
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync, "in sync");

        processor.Starts.Should().Be(1);
        // The list fits one batch, but the parse failures keep their place in it: what came before them is
        // delivered before them, what came after, after.
        _callbacks.Calls.Where(c => c is Update[] or RecordingCallbacks.ParseFailedCall).Select(c => c switch
        {
            Update[] batch => string.Join(",", batch.Select(u => u.KVPair.Key.DefaultPath)),
            RecordingCallbacks.ParseFailedCall failed => "parseFailed " + failed.RawKey,
            _ => "",
        }).Should().Equal("/a/one#0,/a/two#0,/a/two#1", "parseFailed /a/bad", "/a/last#0");
        _callbacks.AllUpdates.Select(u => (u.KVPair.Key.DefaultPath, u.UpdateType)).Should().Equal(
            ("/a/one#0", UpdateType.New), ("/a/two#0", UpdateType.New), ("/a/two#1", UpdateType.New), ("/a/last#0", UpdateType.New));
        _callbacks.Calls.OfType<RecordingCallbacks.ParseFailedCall>().Should().Equal(new RecordingCallbacks.ParseFailedCall("/a/bad", "!"));
        _callbacks.AllUpdates.Should().OnlyContain(u => u.KVPair.Revision != null);

        // An update that now fails to parse deletes what the key had produced.
        watch.Modified("/a/two", "!", 11);
        await Until(() => _callbacks.AllUpdates.Count == 6, "the keys derived from /a/two are deleted");
        _callbacks.AllUpdates.Skip(4).Select(u => (u.KVPair.Key.DefaultPath, u.UpdateType)).Should().Equal(
            ("/a/two#0", UpdateType.Deleted), ("/a/two#1", UpdateType.Deleted));
        _callbacks.Calls.OfType<RecordingCallbacks.ParseFailedCall>().Should().HaveCount(2);
    }

    [Fact]
    public async Task InvalidValueFromBackend_IsReportedAndTheOtherKeysSync()
    {
        Script a = _backend.For("/a/");
        Start("/a/");
        var bad = new KVPair(new PathKey("/a/bad"), new InvalidValue(new ValueParseException("/a/bad", "\u0001junk", "not JSON")), "3");
        a.List(10, Pair("/a/good", "1", 1), bad);
        ScriptedWatch watch = a.Watch();
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync, "in sync");
        _callbacks.AllUpdates.Select(u => u.KVPair.Key.DefaultPath).Should().Equal("/a/good");
        _callbacks.Calls.OfType<RecordingCallbacks.ParseFailedCall>().Should().Equal(new RecordingCallbacks.ParseFailedCall("/a/bad", "\u0001junk"));

        watch.Send(new WatchEvent(WatchEventType.Modified, null, new KVPair(new PathKey("/a/good"), new InvalidValue(new ValueParseException("/a/good", "x", "bad")), "12")));
        await Until(() => _callbacks.AllUpdates.Count == 2, "the key whose value went bad is deleted");
        _callbacks.AllUpdates[^1].UpdateType.Should().Be(UpdateType.Deleted);
    }

    [Fact]
    public async Task ConnectionLoss_PastWatchRetryTimeout_WaitForDatastoreAndOneSyncFailed_ThenRecovers()
    {
        var options = new WatcherSyncerOptions { WatchRetryTimeout = TimeSpan.FromSeconds(30) };
        Script a = _backend.For("/a/");
        Start(options, new ResourceType(new PrefixListOptions("/a/")));
        a.List(10, Pair("/a/k1", "1", 1));
        a.WatchFails(new DatastoreUnavailableException("connection refused"));
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync && a.WatchRevisions.Count == 1, "in sync, then the watch fails");

        // Keep failing for longer than the retry timeout (each pass takes at least MinResyncInterval).
        for (int i = 0; i < 100; i++)
        {
            a.WatchFails(new DatastoreUnavailableException("connection refused"));
        }

        for (int i = 0; i < 5; i++)
        {
            a.ListFails(new DatastoreUnavailableException("connection refused"));
        }

        // WaitForDatastore is announced, then SyncFailed is called: wait for both before looking.
        await Until(
            () => _callbacks.LastStatus == SyncStatus.WaitForDatastore && _callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Any(),
            "the syncer gives up waiting",
            step: TimeSpan.FromSeconds(1));
        _callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Should().ContainSingle();
        _callbacks.Calls.SkipWhile(c => !Equals(c, SyncStatus.WaitForDatastore)).Skip(1).First().Should().BeOfType<RecordingCallbacks.SyncFailedCall>("SyncFailed follows the status");

        // Recovery: the failed lists are retried until one succeeds.
        await Until(() => a.ListCalls == 7, "the cache retries the list after the loss", step: TimeSpan.FromSeconds(1));
        _callbacks.Statuses[^1].Should().Be(SyncStatus.WaitForDatastore);
        a.List(50, Pair("/a/k1", "1", 1), Pair("/a/k2", "2", 45));
        a.Watch();
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync, "the syncer recovers", step: TimeSpan.FromSeconds(1));
        _callbacks.Statuses.Should().Equal(SyncStatus.ResyncInProgress, SyncStatus.InSync, SyncStatus.WaitForDatastore, SyncStatus.ResyncInProgress, SyncStatus.InSync);
        _callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Should().ContainSingle();
        _callbacks.AllUpdates.Select(u => u.KVPair.Key.DefaultPath).Should().Equal("/a/k1", "/a/k2");
    }

    [Fact]
    public async Task StopAsync_ReportsEveryKnownKeyAsDeleted()
    {
        Script a = _backend.For("/a/");
        Script b = _backend.For("/b/");
        Start("/a/", "/b/");
        a.List(10, Pair("/a/1", "1", 1), Pair("/a/2", "2", 2));
        b.List(10, Pair("/b/1", "1", 3));
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync, "in sync");
        await _syncer!.StopAsync();
        _callbacks.Picture.Should().BeEmpty();
        _callbacks.AllUpdates.Where(u => u.UpdateType == UpdateType.Deleted).Select(u => u.KVPair.Key.DefaultPath)
            .Should().BeEquivalentTo(["/a/1", "/a/2", "/b/1"]);
        _syncer.KeyCount.Should().Be(0);
        await _syncer.StopAsync();
    }

    [Fact]
    public async Task StopAsync_WhileTheSinkIsBlocked_DeliversWhatWasHandedOverThenDeletesExactlyWhatTheConsumerHolds()
    {
        Script a = _backend.For("/a/");
        Start(new WatcherSyncerOptions { MaxUpdatesPerBatch = 1 }, new ResourceType(new PrefixListOptions("/a/")));
        a.List(10);
        ScriptedWatch watch = a.Watch();
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync && a.WatchRevisions.Count == 1, "in sync and watching");

        using var gate = new ManualResetEventSlim(false);
        _callbacks.UpdatesGate = gate;
        for (int i = 0; i < 300; i++)
        {
            watch.Added($"/a/{i:D3}", "v", 11 + i);
        }

        // The sink holds the first batch; the cache fills the channel and waits to hand over the next one.
        await Until(() => _callbacks.UpdatesEntered == 1 && _syncer!.KeyCount >= 60, "the channel to the syncer loop is full");
        Task stop = _syncer!.StopAsync();
        gate.Set();
        await stop.WaitAsync(Eventually.DefaultTimeout);

        _callbacks.Violations.Should().BeEmpty("no Deleted for a key the consumer never got");
        _callbacks.Picture.Should().BeEmpty("after StopAsync the consumer holds nothing");
        _syncer.KeyCount.Should().Be(0);
    }

    [Fact]
    public async Task StopAsync_DuringALargeList_Completes()
    {
        using var blocker = new ManualResetEventSlim(false);
        var processor = new BlockingProcessor("/a/150", blocker);
        Script a = _backend.For("/a/");
        Start(new WatcherSyncerOptions { MaxUpdatesPerBatch = 1 }, new ResourceType(new PrefixListOptions("/a/"), processor));
        a.List(400, Enumerable.Range(0, 300).Select(i => Pair($"/a/{i:D3}", "v", i + 1)).ToArray());
        await Until(() => processor.Blocked, "the list is half applied and the processor is blocked");

        Task stop = _syncer!.StopAsync();
        blocker.Set();
        await stop.WaitAsync(Eventually.DefaultTimeout);

        _callbacks.Violations.Should().BeEmpty();
        _callbacks.Picture.Should().BeEmpty();
        _callbacks.AllUpdates.Should().Contain(u => u.UpdateType == UpdateType.New, "the part of the list applied before the stop was delivered");
    }

    [Fact]
    public async Task StopAsync_CalledTwice_TheSecondCompletesOnlyWhenTheStopIsComplete()
    {
        Script a = _backend.For("/a/");
        Start("/a/");
        a.List(10, Pair("/a/1", "1", 1));
        ScriptedWatch watch = a.Watch();
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync && a.WatchRevisions.Count == 1, "in sync and watching");

        using var gate = new ManualResetEventSlim(false);
        _callbacks.UpdatesGate = gate;
        watch.Added("/a/2", "2", 11);
        await Until(() => _callbacks.UpdatesEntered == 2, "the sink is blocked in OnUpdates");

        Task first = _syncer!.StopAsync();
        Task second = _syncer.StopAsync();
        ValueTask third = _syncer.DisposeAsync();
        second.IsCompleted.Should().BeFalse("the final deletes have not been delivered yet");
        third.IsCompleted.Should().BeFalse();

        gate.Set();
        await Task.WhenAll(first, second, third.AsTask()).WaitAsync(Eventually.DefaultTimeout);
        _callbacks.Picture.Should().BeEmpty();
    }

    [Theory]
    [InlineData("compacted")]
    [InlineData("watch errors")]
    public async Task Relist_WhileTheListFails_ReportsResyncInProgressAsSoonAsItIsDecided(string cause)
    {
        Script a = _backend.For("/a/");
        Start("/a/");
        a.List(10, Pair("/a/k1", "1", 1));
        ScriptedWatch watch = a.Watch();
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync && a.WatchRevisions.Count == 1, "in sync and watching");

        if (cause == "compacted")
        {
            watch.Error(new RevisionExpiredException("compacted"));
        }
        else
        {
            watch.Error(new DatastoreException("odd 1"));
            for (int i = 2; i <= 5; i++)
            {
                a.WatchFails(new DatastoreException($"odd {i}"));
            }
        }

        a.ListFails(new DatastoreUnavailableException("connection refused"));
        a.ListFails(new DatastoreUnavailableException("connection refused"));
        await Until(() => a.ListCalls == 3, "the relist failed twice and is being retried");
        _callbacks.Statuses.Should().Equal(SyncStatus.ResyncInProgress, SyncStatus.InSync, SyncStatus.ResyncInProgress);

        a.List(20, Pair("/a/k1", "1", 1));
        a.Watch();
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync && a.WatchRevisions.Last() == "20", "the relist succeeds");
        _callbacks.Statuses.Should().Equal(SyncStatus.ResyncInProgress, SyncStatus.InSync, SyncStatus.ResyncInProgress, SyncStatus.InSync);
    }

    [Fact]
    public async Task ParseFailure_BetweenTwoGoodEvents_KeepsItsPlaceInTheOrder()
    {
        var processor = new SplittingProcessor();
        Script a = _backend.For("/a/");
        a.List(10);

        // Scripted before the start, so that the cache reads the three events in one go.
        ScriptedWatch watch = a.Watch();
        watch.Added("/a/b", "b", 11);
        watch.Added("/a/c", "!", 12);
        watch.Added("/a/d", "d", 13);
        Start(new ResourceType(new PrefixListOptions("/a/"), processor));
        await Until(() => _callbacks.AllUpdates.Count == 2, "both good events arrive");

        _callbacks.Calls.Where(c => c is not SyncStatus).Select(Describe)
            .Should().Equal("[New:/a/b#0]", "ParseFailedCall { RawKey = /a/c, RawValue = ! }", "[New:/a/d#0]");
    }

    [Fact]
    public async Task Bookmark_AfterWatchErrors_ResetsTheErrorCount()
    {
        Script a = _backend.For("/a/");
        Start("/a/");
        a.List(10, Pair("/a/k1", "1", 1));
        for (int i = 1; i <= 4; i++)
        {
            a.WatchFails(new DatastoreException($"odd {i}"));
        }

        // The fifth watch works long enough to move the revision on with a bookmark, then fails.
        ScriptedWatch watch = a.Watch();
        watch.Bookmark(20);
        watch.Error(new DatastoreException("odd 5"));
        a.Watch();
        await Until(() => a.WatchRevisions.Count == 6, "the cache watches again from the bookmark");
        a.WatchRevisions.Last().Should().Be("20");
        a.ListCalls.Should().Be(1, "the bookmark showed the watch was making progress");
    }

    [Fact]
    public async Task WatchRetryTimeout_CountsFromStartNotFromConstruction()
    {
        Script a = _backend.For("/a/");
        _syncer = new WatcherSyncer(_backend, [new ResourceType(new PrefixListOptions("/a/"))], _callbacks, new WatcherSyncerOptions { TimeProvider = _time, WatchRetryTimeout = TimeSpan.FromSeconds(30) });
        _time.Advance(TimeSpan.FromMinutes(5));
        _syncer.Start();
        a.ListFails(new DatastoreUnavailableException("connection refused"));
        a.List(10, Pair("/a/k1", "1", 1));
        a.Watch();
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync, "in sync after one failed list");
        _callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Should().BeEmpty("one failed list right after the start is not a lost contact");
    }

    [Fact]
    public void Constructor_BadArguments_Throw()
    {
        Action noTypes = () => _ = new WatcherSyncer(_backend, [], _callbacks);
        noTypes.Should().Throw<ArgumentException>();
        Action nullCallbacks = () => _ = new WatcherSyncer(_backend, [new ResourceType(new PrefixListOptions("/"))], null!);
        nullCallbacks.Should().Throw<ArgumentNullException>();
        Action badOptions = () => _ = new WatcherSyncer(_backend, [new ResourceType(new PrefixListOptions("/"))], _callbacks, new WatcherSyncerOptions { MaxUpdatesPerBatch = 0 });
        badOptions.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public async Task Start_Twice_Throws()
    {
        Start("/a/");
        Action again = () => _syncer!.Start();
        again.Should().Throw<InvalidOperationException>();
        await _syncer!.StopAsync();
        Action afterStop = () => _syncer!.Start();
        afterStop.Should().Throw<ObjectDisposedException>();
    }

    private void Start(params string[] prefixes) =>
        Start(new WatcherSyncerOptions(), prefixes.Select(p => new ResourceType(new PrefixListOptions(p))).ToArray());

    private void Start(params ResourceType[] types) => Start(new WatcherSyncerOptions(), types);

    private void Start(WatcherSyncerOptions options, params ResourceType[] types)
    {
        options.TimeProvider = _time;
        _syncer = new WatcherSyncer(_backend, types, _callbacks, options);
        _syncer.Start();
    }

    /// <summary>Moves the fake clock on in steps until the condition holds (a real-time deadline guards it).</summary>
    private async Task Until(Func<bool> condition, string because, TimeSpan? step = null)
    {
        using var deadline = new CancellationTokenSource(Eventually.DefaultTimeout);
        while (!condition())
        {
            if (deadline.IsCancellationRequested)
            {
                throw new TimeoutException($"Not reached in time: {because}. Calls: {string.Join(", ", _callbacks.Calls.Select(Describe))}");
            }

            _time.Advance(step ?? TimeSpan.FromMilliseconds(100));
            await Task.Delay(2);
        }
    }

    private static string Describe(object call) => call switch
    {
        Update[] batch => $"[{string.Join(" ", batch.Select(u => $"{u.UpdateType}:{u.KVPair.Key.DefaultPath}"))}]",
        _ => call.ToString() ?? "?",
    };

    /// <summary>Passes pairs through; blocks on one key until released.</summary>
    private sealed class BlockingProcessor(string blockOn, ManualResetEventSlim release) : ISyncerUpdateProcessor
    {
        private volatile bool _blocked;

        public bool Blocked => _blocked;

        public IReadOnlyList<KVPair> Process(KVPair kv)
        {
            if (kv.Key.DefaultPath == blockOn)
            {
                _blocked = true;
                release.Wait();
            }

            return [kv];
        }

        public void OnSyncerStarting()
        {
        }
    }

    /// <summary>"" → nothing; "a,b" → one pair per part; "!" → parse failure; "?" → another failure.</summary>
    private sealed class SplittingProcessor : ISyncerUpdateProcessor
    {
        private readonly Dictionary<string, int> _produced = [];

        public int Starts { get; private set; }

        public IReadOnlyList<KVPair> Process(KVPair kv)
        {
            string path = kv.Key.DefaultPath;
            if (kv.Value is null)
            {
                int count = _produced.Remove(path, out int n) ? n : 0;
                return Enumerable.Range(0, count).Select(i => new KVPair(new PathKey($"{path}#{i}"), null, kv.Revision)).ToList();
            }

            string text = (string)kv.Value;
            if (text == "!")
            {
                throw new ValueParseException(path, text, "bang");
            }

            if (text == "?")
            {
                throw new InvalidOperationException("processor bug");
            }

            string[] parts = text.Length == 0 ? [] : text.Split(',');
            _produced[path] = parts.Length;
            return parts.Select((p, i) => new KVPair(new PathKey($"{path}#{i}"), p)).ToList();
        }

        public void OnSyncerStarting() => Starts++;
    }
}
