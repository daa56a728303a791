using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// What a client does when it resyncs against a relay that is not where it was: a relay still listing, a relay whose
/// shared snapshot is old, a relay over a datastore that was reset. The client keeps its picture until it holds the
/// feed's current one, reports only what changed, and says InSync only then.
/// </summary>
public sealed class RelayResyncTests
{
    [Fact]
    public async Task FailoverToARelayStillListing_ClientKeepsItsPicture_UntilThatRelayIsInSync()
    {
        await using var store = new InMemoryBackend();
        for (int i = 0; i < 40; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), $"v{i}"));
        }

        TestRelay first = await TestRelay.StartAsync(Relays.Feed(store));
        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(first.Address), callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client before the restart");

        // The relay comes back on the same address over a datastore it cannot reach yet: its first list is pending.
        int port = first.Port;
        await first.KillAsync();
        var unreachable = new FaultyBackend(store, seed: 1) { Faults = false, Down = true };
        await using TestRelay second = await TestRelay.StartAsync(Relays.Feed(unreachable), port);
        await Eventually.True(() => second.Host.Connections.Count == 1, "the client reaches the relay that cannot list");
        await Eventually.True(() => second.Feed().SnapshotsEncoded >= 1, "the second relay has sent its (empty) snapshot");

        unreachable.Down = false;
        await Relays.ConvergedAsync(callbacks, store, "client after the second relay listed");
        callbacks.Violations.Should().BeEmpty();
        callbacks.AllUpdates.Where(u => u.UpdateType == UpdateType.Deleted).Should().BeEmpty("no key was deleted from the store");
    }

    [Fact]
    public async Task FailoverToARelayWithAnOldSharedSnapshot_ReportsOnlyWhatChanged_AndInSyncOnlyWithTheCurrentPicture()
    {
        await using var store = new InMemoryBackend();
        for (int i = 0; i < 60; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), $"v{i}"));
        }

        await using TestRelay first = await TestRelay.StartAsync(Relays.Feed(store));
        await using TestRelay second = await TestRelay.StartAsync(Relays.Feed(store));
        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(first.Address, second.Address), callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client before the failover");
        await Eventually.True(() => syncer.ConnectedEndpoint is not null, "the client is connected");
        (TestRelay victim, TestRelay survivor) = syncer.ConnectedEndpoint == first.Address ? (first, second) : (second, first);

        // A client of the survivor makes it encode a snapshot, which the writes below leave behind.
        var other = new RecordingCallbacks();
        await using var otherSyncer = new RelaySyncer(Relays.Client(survivor.Address), other);
        otherSyncer.Start();
        await Relays.ConvergedAsync(other, store, "the survivor's client");
        int encoded = survivor.Feed().SnapshotsEncoded;
        for (int i = 0; i < 20; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), $"changed{i}"));
        }

        await store.DeleteAsync(new PathKey(Relays.Key(1, 21)));
        await Relays.ConvergedAsync(callbacks, store, "client after the writes");
        await Relays.ConvergedAsync(other, store, "the survivor's client after the writes");
        int before = callbacks.Calls.Count;

        await victim.KillAsync();
        await Eventually.True(() => syncer.ConnectedEndpoint == survivor.Address, "the client fails over");
        await Relays.ConvergedAsync(callbacks, store, "client after the failover");
        survivor.Feed().SnapshotsEncoded.Should().Be(encoded, "the survivor's snapshot was old when the client came");
        callbacks.Violations.Should().BeEmpty();
        callbacks.Calls.Skip(before).OfType<Update[]>().SelectMany(b => b)
            .Should().BeEmpty("nothing changed in the store while the client moved, so nothing is reported again");
        Dictionary<string, string> expected = await Relays.StoreAsync(store);
        foreach (Dictionary<string, string> picture in Relays.PicturesAtInSync(callbacks.Calls, before))
        {
            Relays.Same(picture, expected).Should().BeTrue("every InSync announces the store's picture (no writes happened meanwhile)");
        }
    }

    [Fact]
    public async Task FailoverAfterADatastoreReset_ValuesThatReuseARevision_AreNotDropped()
    {
        // The second store is the first one restored from an older backup and written again: the same revisions
        // now name other values.
        await using var original = new InMemoryBackend();
        await using var restored = new InMemoryBackend();
        for (int i = 0; i < 10; i++)
        {
            await original.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, i)), $"before-reset-{i}"));
            await restored.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, i)), $"after-reset-{i}"));
        }

        TestRelay first = await TestRelay.StartAsync(Relays.Feed(original));
        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(first.Address), callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, original, "client before the reset");
        int port = first.Port;
        await first.KillAsync();
        await using TestRelay second = await TestRelay.StartAsync(Relays.Feed(restored), port);
        await Relays.ConvergedAsync(callbacks, restored, "client after the reset");
        callbacks.Violations.Should().BeEmpty();
    }
    [Fact]
    public async Task FailoverToARelayThatHasNotSeenADelete_DoesNotGiveTheKeyBack()
    {
        // The client saw k0 deleted; the other relay, cut off from the datastore but still in sync by its own lights,
        // holds k0 and no value newer than the ones the client holds: only the delete says it is behind.
        await using var store = new InMemoryBackend();
        for (int i = 0; i < 4; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, i)), $"initial{i}"));
        }

        var toFirst = new FaultyBackend(store, 1) { Faults = false };
        var toSecond = new FaultyBackend(store, 2) { Faults = false };
        await using TestRelay first = await TestRelay.StartAsync(Relays.Feed(toFirst));
        await using TestRelay second = await TestRelay.StartAsync(Relays.Feed(toSecond));

        // The client under test starts on the first relay (a client picks its first endpoint at random).
        RecordingCallbacks callbacks;
        RelaySyncer syncer;
        var logs = new Microsoft.Extensions.Logging.Testing.FakeLogCollector();
        while (true)
        {
            callbacks = new RecordingCallbacks();
            RelaySyncerOptions options = Relays.Client(first.Address, second.Address);
            options.LoggerFactory = FakeLogs.Factory(logs);
            syncer = new RelaySyncer(options, callbacks);
            syncer.Start();
            await Relays.ConvergedAsync(callbacks, store, "client before the delete");
            if (syncer.ConnectedEndpoint == first.Address)
            {
                break;
            }

            await syncer.DisposeAsync();
        }

        await using var disposeSyncer = syncer;
        toSecond.Down = true;
        await store.DeleteAsync(new PathKey(Relays.Key(0, 0)));
        await Relays.ConvergedAsync(callbacks, store, "client after the delete");

        second.Feed().Status.Should().Be(SyncStatus.InSync, "the second relay is in sync by its own lights");
        await first.KillAsync();

        // The client meets the second relay while it is behind: it takes its picture (the bug), or refuses it.
        await Eventually.True(
            () => syncer.ConnectedEndpoint == second.Address || logs.GetSnapshot().Any(r => r.Message.Contains("behind", StringComparison.Ordinal)),
            "the client has met the second relay");
        toSecond.Down = false;
        await Relays.ConvergedAsync(callbacks, store, "client after the second relay caught up");
        callbacks.AllUpdates.Where(u => u.KVPair.Key.DefaultPath == Relays.Key(0, 0) && u.UpdateType != UpdateType.Deleted)
            .Should().HaveCount(1, "the key was given once (the first picture), never again after its delete");
    }
}
