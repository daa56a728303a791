using System.Globalization;
using FluentAssertions;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Testing.ScriptedBackend;

namespace WatcherSync.Tests.Syncing;

/// <summary>Production edges of the syncer: quiet watches, backends that throw where they should not, replays.</summary>
public sealed partial class WatcherSyncerTests
{
    [Fact]
    public async Task QuietHealthyWatch_LongerThanTheRetryTimeoutThenOneTransientError_ResumesFromTheSameRevision()
    {
        Script a = _backend.For("/a/");
        Start(new WatcherSyncerOptions { WatchRetryTimeout = TimeSpan.FromSeconds(30) }, new ResourceType(new PrefixListOptions("/a/")));
        a.List(10, Pair("/a/k1", "1", 1));
        ScriptedWatch quiet = a.Watch();
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync && a.WatchRevisions.Count == 1, "in sync and watching");

        // Five minutes of an open, healthy watch with nothing to say: that is contact, not silence.
        _time.Advance(TimeSpan.FromMinutes(5));
        quiet.Error(new DatastoreUnavailableException("connection reset"));
        ScriptedWatch next = a.Watch();
        await Until(() => a.WatchRevisions.Count == 2, "the cache watches again");
        next.Added("/a/k2", "2", 11);
        await Until(() => _callbacks.AllUpdates.Count == 2, "the next write arrives");

        _callbacks.Statuses.Should().Equal([SyncStatus.ResyncInProgress, SyncStatus.InSync], "one transient error is not a lost datastore");
        _callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Should().BeEmpty();
        a.ListCalls.Should().Be(1, "the watch resumed without a relist");
        a.WatchRevisions.Should().Equal("10", "10");
    }

    [Fact]
    public async Task WatchesThatOpenAndFailAtOnce_ForLongerThanTheRetryTimeout_AreALostDatastore()
    {
        Script a = _backend.For("/a/");
        Start(new WatcherSyncerOptions { WatchRetryTimeout = TimeSpan.FromMinutes(1) }, new ResourceType(new PrefixListOptions("/a/")));
        a.List(10, Pair("/a/k1", "1", 1));
        ScriptedWatch watch = a.Watch();
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync && a.WatchRevisions.Count == 1, "in sync and watching");

        // A datastore (or a proxy before it) that accepts every watch and drops it at once, hearing nothing, for
        // five minutes: no event, no bookmark, no list ever succeeds in that time. Each watch is dropped at once: the
        // clock moves only once the cache has taken the error (time in an open watch is contact, time between
        // watches is not).
        bool Lost() => _callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Any();
        for (int i = 2; i <= 16 && !Lost(); i++)
        {
            watch.Error(new DatastoreUnavailableException("accepted, then dropped at once"));
            ScriptedWatch dropped = watch;
            await Until(() => dropped.Disposed, $"the cache has taken the error of watch {i - 1}");
            _time.Advance(TimeSpan.FromSeconds(20));
            watch = a.Watch();
            int opened = i;
            await Until(() => a.WatchRevisions.Count == opened || Lost(), $"watch {opened} is opened, or the datastore is lost");
        }

        await Until(Lost, "five minutes of watches that never deliver anything is a lost datastore (WatchRetryTimeout one minute)");
        a.WatchRevisions.Count.Should().BeLessThanOrEqualTo(5, "the loss counts from the first failure: 3 × 20 s between watches reach the one-minute timeout");
        _callbacks.LastStatus.Should().Be(SyncStatus.WaitForDatastore);
    }

    [Fact]
    public async Task WatchDisposeThrows_IsAWatchFailureTheCacheSurvives_AndStopStillDeletesEveryKey()
    {
        Script a = _backend.For("/a/");
        Start("/a/");
        a.List(10, Pair("/a/k1", "1", 1));
        ScriptedWatch first = a.Watch();
        first.DisposeError = new InvalidOperationException("the backend's watch dispose broke");
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync && a.WatchRevisions.Count == 1, "in sync and watching");

        first.Added("/a/k2", "2", 11);
        first.End();
        ScriptedWatch second = a.Watch();
        await Until(() => a.WatchRevisions.Count == 2, "the cache watches again after the dispose failed");
        second.Added("/a/k3", "3", 12);
        await Until(() => _callbacks.AllUpdates.Count == 3, "the cache still delivers");

        // The stop disposes the open watch, and that throws too.
        second.DisposeError = new InvalidOperationException("broken again");
        await Eventually.Within(_syncer!.StopAsync(), "the stop completes whatever the backend throws");
        _callbacks.Picture.Should().BeEmpty("every key held is reported deleted at stop");
    }

    [Fact]
    public async Task InvalidValue_ReplayedAfterAWatchResume_IsReportedOnce()
    {
        Script a = _backend.For("/a/");
        Start("/a/");
        a.List(10, Pair("/a/good", "1", 1));
        ScriptedWatch first = a.Watch();
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync && a.WatchRevisions.Count == 1, "in sync and watching");

        first.Send(new WatchEvent(WatchEventType.Added, null, Bad("/a/bad", 11)));
        first.End();
        ScriptedWatch second = a.Watch();
        await Until(() => a.WatchRevisions.Count == 2, "the cache watches again");
        a.WatchRevisions.Should().Equal(["10", "10"], "revision 11 may have had more events: the watch resumes before it");
        second.Send(new WatchEvent(WatchEventType.Added, null, Bad("/a/bad", 11)));
        second.Added("/a/k2", "2", 12);
        await Until(() => _callbacks.AllUpdates.Count == 2, "the next write arrives");

        _callbacks.Calls.OfType<RecordingCallbacks.ParseFailedCall>().Should().ContainSingle("a bad write is reported once, however often it is replayed");
    }

    [Fact]
    public async Task ProcessorThrowingAnythingElse_OnTheWatchAndOnARelistAlike_DeletesTheKeyWithoutAParseFailure()
    {
        Script a = _backend.For("/a/");
        Start(new ResourceType(new PrefixListOptions("/a/"), new FailingOnValueProcessor("boom")));
        a.List(10, Pair("/a/k1", "1", 1), Pair("/a/k2", "2", 2));
        ScriptedWatch watch = a.Watch();
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync && a.WatchRevisions.Count == 1, "in sync and watching");

        watch.Modified("/a/k1", "boom", 11);
        await Until(() => !_callbacks.Picture.ContainsKey("/a/k1"), "the watch path drops the value the processor could not process");

        watch.Error(new RevisionExpiredException("compacted"));
        a.List(20, Pair("/a/k1", "boom", 11), Pair("/a/k2", "boom", 15));
        a.Watch();
        await Until(() => a.WatchRevisions.Count == 2 && _callbacks.Statuses.Count == 4, "the cache relists and is in sync again");
        _callbacks.Picture.Should().BeEmpty("the relist path drops them the same way");
        _callbacks.Calls.OfType<RecordingCallbacks.ParseFailedCall>().Should().BeEmpty("only a ValueParseException is a parse failure; other errors are logged");
    }

    [Theory]
    [InlineData("/a/", "/a/")]
    [InlineData("/a/", "/a/b/")]
    [InlineData("/a/b/", "/a/")]
    [InlineData("", "/x/")]
    public void Constructor_OverlappingResourceTypes_ThrowsNamingBoth(string first, string second)
    {
        Func<WatcherSyncer> build = () => new WatcherSyncer(_backend, [new ResourceType(new PrefixListOptions(first)), new ResourceType(new PrefixListOptions(second))], _callbacks);
        build.Should().Throw<ArgumentException>().WithMessage($"*0 ('{first}') and 1 ('{second}') overlap*");
    }

    [Fact]
    public async Task Constructor_DisjointPrefixesSharingLeadingCharacters_AreAccepted()
    {
        await using var syncer = new WatcherSyncer(_backend, [new ResourceType(new PrefixListOptions("/a/")), new ResourceType(new PrefixListOptions("/ab/"))], _callbacks);
        syncer.Status.Should().Be(SyncStatus.WaitForDatastore);
    }

    [Theory]
    [InlineData("/a/", "/a/")]
    [InlineData("/a/", "/a/b/")]
    [InlineData("", "/x/")]
    public void Constructor_APlainPrefixCoveringACustomListsRoot_ThrowsNamingBoth(string prefix, string customRoot)
    {
        // The plain prefix takes every key under it, so every key the custom list options select is listed twice.
        Func<WatcherSyncer> build = () => new WatcherSyncer(_backend, [new ResourceType(new PrefixListOptions(prefix)), new ResourceType(new UnderKeepOptions(customRoot))], _callbacks);
        build.Should().Throw<ArgumentException>().WithMessage($"*0 ('{prefix}') and 1 ('{customRoot}') overlap*");
    }

    [Fact]
    public async Task Constructor_CustomListsWithTheSameRoot_OrACustomRootAboveAPlainPrefix_AreAccepted()
    {
        // Their KeyFromDefaultPath keeps them apart (a custom root above a plain prefix may skip the prefix's keys).
        await using var custom = new WatcherSyncer(_backend, [new ResourceType(new UnderKeepOptions("/a/")), new ResourceType(new UnderKeepOptions("/a/", "other/"))], _callbacks);
        await using var above = new WatcherSyncer(_backend, [new ResourceType(new UnderKeepOptions("/a/")), new ResourceType(new PrefixListOptions("/a/b/"))], _callbacks);
        above.Status.Should().Be(SyncStatus.WaitForDatastore);
    }

    private static KVPair Bad(string key, long revision) =>
        new(new PathKey(key), new InvalidValue(new ValueParseException(key, "junk", "not JSON")), revision.ToString(CultureInfo.InvariantCulture));

    /// <summary>Passes pairs through; throws something other than a parse failure on one value.</summary>
    private sealed class FailingOnValueProcessor(string failOn) : ISyncerUpdateProcessor
    {
        public IReadOnlyList<KVPair> Process(KVPair kv) =>
            Equals(kv.Value, failOn) ? throw new InvalidOperationException("the processor has a bug") : [kv];

        public void OnSyncerStarting()
        {
        }
    }

    /// <summary>Custom list options: the keys under <c>root + part</c> only.</summary>
    private sealed class UnderKeepOptions(string root, string part = "keep/") : IListOptions
    {
        public string DefaultPathRoot => root;

        public IKey? KeyFromDefaultPath(string path) => path.StartsWith(root + part, StringComparison.Ordinal) ? new PathKey(path) : null;
    }
}
