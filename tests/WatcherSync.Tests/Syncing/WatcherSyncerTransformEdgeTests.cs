using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Testing.ScriptedBackend;

namespace WatcherSync.Tests.Syncing;

/// <summary>What a transform may return: a pair without a value, a changed revision.</summary>
public sealed class WatcherSyncerTransformEdgeTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private readonly ScriptedBackend _backend = new();
    private readonly RecordingCallbacks _callbacks = new();
    private WatcherSyncer? _syncer;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_syncer is not null)
        {
            await _syncer.DisposeAsync();
        }
    }

    [Fact]
    public async Task Transform_ReturnsThePairWithANullValue_NoConsumerIsHandedNewOrUpdatedWithoutAValue()
    {
        // A pair with a null value is a delete everywhere else (a processor's output, a watch's delete): a transform that
        // strips the value (kv with { Value = null }) must not hand consumers "New" or "Updated" with nothing in it.
        Script a = _backend.For("/a/");
        a.List(10, Pair("/a/keep", "k", 1), Pair("/a/strip", "secret", 2));
        ScriptedWatch watch = a.Watch();
        Start(kv => (string?)kv.Value == "secret" ? kv with { Value = null } : kv);
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync, "in sync");
        watch.Modified("/a/keep", "secret", 11);
        watch.Added("/a/next", "n", 12);
        await Until(() => _callbacks.Picture.ContainsKey("/a/next"), "the watch's writes arrive");

        _callbacks.AllUpdates.Where(u => u.UpdateType != UpdateType.Deleted)
            .Select(u => $"{u.UpdateType} {u.KVPair.Key.DefaultPath}={u.KVPair.Value ?? "<null>"}")
            .Should().OnlyContain(s => !s.EndsWith("=<null>", StringComparison.Ordinal), "New and Updated always carry a value");
    }

    [Fact]
    public async Task Transform_ChangesTheRevision_TheConsumerGetsTheDatastoresRevision_AsDocumented()
    {
        // docs/syncer.md said the transform may change the revision, and the syncer replaced it: the documented rule is
        // now the behaviour (revisions handed out are the datastore's, comparable with Get and other syncers).
        Script a = _backend.For("/a/");
        a.List(10, Pair("/a/1", "one", 1));
        ScriptedWatch watch = a.Watch();
        Start(kv => kv with { Revision = "app-" + kv.Revision });
        await Until(() => _callbacks.LastStatus == SyncStatus.InSync, "in sync");
        watch.Modified("/a/1", "uno", 11);
        await Until(() => _callbacks.AllUpdates.Count == 2, "the watch's write arrives");

        _callbacks.AllUpdates.Select(u => u.KVPair.Revision).Should().Equal(["1", "11"], "the revision handed out is the datastore's");
        _callbacks.AllUpdates.Select(u => (string?)u.KVPair.Value).Should().Equal(["one", "uno"]);
    }

    private void Start(Func<KVPair, KVPair?> transform)
    {
        var options = new WatcherSyncerOptions { TimeProvider = _time, Transform = transform };
        _syncer = new WatcherSyncer(_backend, [new ResourceType(new PrefixListOptions("/a/"))], _callbacks, options);
        _syncer.Start();
    }

    private Task Until(Func<bool> condition, string because) => Eventually.Advancing(_time, condition, because);
}
