using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Testing.ScriptedBackend;

namespace WatcherSync.Tests.Syncing;

/// <summary>The syncer's transform: applied once per update before any callback sees it, contained when it fails.</summary>
public sealed class WatcherSyncerTransformTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedBackend _backend = new();
    private readonly RecordingCallbacks _callbacks = new();
    private readonly List<string> _transformed = [];
    private WatcherSyncer? _syncer;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_syncer is not null)
        {
            await _syncer.DisposeAsync();
        }

        _callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task Transform_OnListAndWatch_ReshapesEachUpdateOnce_NotTheRepeats()
    {
        Script a = _backend.For("/a/");
        a.List(10, Pair("/a/1", "one", 1), Pair("/a/2", "two", 2));
        ScriptedWatch watch = a.Watch();
        Start(Upper);
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync, "in sync");

        watch.Modified("/a/1", "uno", 11);
        watch.Modified("/a/1", "uno", 11);
        watch.Deleted("/a/2", 12);
        watch.Added("/a/3", "three", 13);
        await Until(() => _callbacks.AllUpdates.Count == 5, "the watch's changes arrive");

        _callbacks.AllUpdates.Select(u => (u.KVPair.Key.DefaultPath, u.UpdateType, u.KVPair.Value)).Should().Equal(
            ("/a/1", UpdateType.New, "ONE"), ("/a/2", UpdateType.New, "TWO"), ("/a/1", UpdateType.Updated, "UNO"),
            ("/a/2", UpdateType.Deleted, null), ("/a/3", UpdateType.New, "THREE"));
        _transformed.Should().Equal(["/a/1", "/a/2", "/a/1", "/a/3"], "once per update handed out; the repeat at revision 11 and the delete are not transformed");
        _callbacks.AllUpdates.Where(u => u.UpdateType != UpdateType.Deleted).Should().OnlyContain(u => u.KVPair.Revision != null);
    }

    [Fact]
    public async Task Transform_ReturnsNull_TheKeyIsDropped_AndDeletedWhenHeld()
    {
        Script a = _backend.For("/a/");
        a.List(10, Pair("/a/keep", "k", 1), Pair("/a/secret", "drop", 2));
        ScriptedWatch watch = a.Watch();
        Start(kv => (string?)kv.Value == "drop" ? null : kv);
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync, "in sync");
        _callbacks.Picture.Keys.Should().Equal("/a/keep");

        watch.Modified("/a/keep", "drop", 11);
        watch.Added("/a/next", "n", 12);
        await Until(() => _callbacks.AllUpdates.Count == 3, "the dropped key is deleted and the next one arrives");
        _callbacks.AllUpdates.Select(u => (u.KVPair.Key.DefaultPath, u.UpdateType)).Should().Equal(
            ("/a/keep", UpdateType.New), ("/a/keep", UpdateType.Deleted), ("/a/next", UpdateType.New));
        _callbacks.Calls.OfType<RecordingCallbacks.ParseFailedCall>().Should().BeEmpty("dropping is not a failure");
    }

    [Fact]
    public async Task Transform_Throws_ContainedLikeAParseFailure_ReportedOnce_AndTheSyncerGoesOn()
    {
        Script a = _backend.For("/a/");
        a.List(10, Pair("/a/good", "g", 1), Pair("/a/bad", "boom", 2));
        ScriptedWatch watch = a.Watch();
        Start(kv => (string?)kv.Value == "boom" ? throw new FormatException("cannot reshape") : kv);
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync, "in sync despite the failing transform");
        _callbacks.Picture.Keys.Should().Equal("/a/good");
        _callbacks.Calls.OfType<RecordingCallbacks.ParseFailedCall>().Should().Equal(new RecordingCallbacks.ParseFailedCall("/a/bad", "boom"));

        // A held key whose new value the transform refuses is deleted; the same write replayed is not reported again.
        watch.Modified("/a/good", "boom", 11);
        watch.End();
        ScriptedWatch again = a.Watch();
        await Until(() => a.WatchRevisions.Count == 2, "the watch resumes before revision 11");
        again.Modified("/a/good", "boom", 11);
        again.Added("/a/after", "a", 12);
        await Until(() => _callbacks.Picture.ContainsKey("/a/after"), "later writes still arrive");

        _callbacks.AllUpdates.Select(u => (u.KVPair.Key.DefaultPath, u.UpdateType)).Should().Equal(
            ("/a/good", UpdateType.New), ("/a/good", UpdateType.Deleted), ("/a/after", UpdateType.New));
        _callbacks.Calls.OfType<RecordingCallbacks.ParseFailedCall>().Select(f => f.RawKey).Should().Equal("/a/bad", "/a/good");
        _callbacks.Statuses.Should().Equal(SyncStatus.ResyncInProgress, SyncStatus.InSync);
    }

    [Fact]
    public async Task Transform_ChangesTheKey_IsRefusedLikeAFailure()
    {
        Script a = _backend.For("/a/");
        a.List(10, Pair("/a/1", "x", 1), Pair("/a/2", "y", 2));
        a.Watch();
        Start(kv => kv.Key.DefaultPath == "/a/2" ? kv with { Key = new PathKey("/elsewhere") } : kv);
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync, "in sync");

        _callbacks.Picture.Keys.Should().Equal("/a/1");
        _callbacks.Calls.OfType<RecordingCallbacks.ParseFailedCall>().Select(f => f.RawKey).Should().Equal("/a/2");
    }

    [Fact]
    public async Task Transform_WithAProcessor_SeesTheProcessedPairs()
    {
        Script a = _backend.For("/a/");
        a.List(10, Pair("/a/1", "x,y", 1));
        a.Watch();
        Start(Upper, new ResourceType(new PrefixListOptions("/a/"), new SplitProcessor()));
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync, "in sync");

        _callbacks.Picture.Should().Equal(new Dictionary<string, object?> { ["/a/1#0"] = "X", ["/a/1#1"] = "Y" });
        _transformed.Should().Equal("/a/1#0", "/a/1#1");
    }

    private KVPair? Upper(KVPair kv)
    {
        _transformed.Add(kv.Key.DefaultPath);
        return kv with { Value = ((string)kv.Value!).ToUpperInvariant() };
    }

    private void Start(Func<KVPair, KVPair?> transform, ResourceType? type = null)
    {
        var options = new WatcherSyncerOptions { TimeProvider = _time, Transform = transform };
        _syncer = new WatcherSyncer(_backend, [type ?? new ResourceType(new PrefixListOptions("/a/"))], _callbacks, options);
        _syncer.Start();
    }

    private Task Until(Func<bool> condition, string because) => Eventually.Advancing(_time, condition, because);

    /// <summary>"a,b" → one pair per part, keyed path#i.</summary>
    private sealed class SplitProcessor : ISyncerUpdateProcessor
    {
        public IReadOnlyList<KVPair> Process(KVPair kv) => kv.Value is string text
            ? text.Split(',').Select((p, i) => new KVPair(new PathKey($"{kv.Key.DefaultPath}#{i}"), p)).ToList()
            : [];

        public void OnSyncerStarting()
        {
        }
    }
}
