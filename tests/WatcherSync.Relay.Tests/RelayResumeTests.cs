using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.InMemory;
using WatcherSync.Relay.Protocol;
using WatcherSync.Relay.Server;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// A client that reconnects says where it is (the relay's log, its sequence in it, the datastore epoch, revision and
/// a digest of its picture). A relay that can continue it from there sends no snapshot; one that cannot sends the
/// snapshot as before. Each case on real relays, the network cut by a loopback proxy the test owns.
/// </summary>
public sealed class RelayResumeTests
{
    [Fact]
    public async Task NetworkCut_ClientBackOnTheSameRelay_ResumesFromItsSequence_WithoutASnapshot()
    {
        await using var store = await StoreAsync(100);
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        await using ClientBehindProxy client = await ClientBehindProxy.StartAsync(relay, store);
        client.Snapshots.Count().Should().Be(1);
        int before = client.Callbacks.Calls.Count;

        await client.CutAsync();
        for (int i = 0; i < 5; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, i)), $"during-cut-{i}"));
        }

        await store.DeleteAsync(new PathKey(Relays.Key(1, 99)));
        client.Proxy.Restore();
        await Relays.ConvergedAsync(client.Callbacks, store, "client after the cut");

        client.Snapshots.Count().Should().Be(1, "the relay's log still held what followed the client's position: no snapshot");
        client.Resumes.Count("sequence").Should().Be(1);
        client.Callbacks.Calls.Skip(before).OfType<SyncStatus>().Should().BeEmpty("the client continued, as a direct syncer re-watching does, without a resync");
        client.Callbacks.Calls.Skip(before).OfType<Update[]>().SelectMany(b => b).Select(u => u.KVPair.Key.DefaultPath)
            .Should().BeEquivalentTo([.. Enumerable.Range(0, 5).Select(i => Relays.Key(0, i)), Relays.Key(1, 99)], "only what changed during the cut is reported");
        client.Callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task FailoverToAnotherRelayOverTheSameStore_ResumesByRevision_WithoutASnapshot()
    {
        await using var store = await StoreAsync(100);
        await using TestRelay first = await TestRelay.StartAsync(Relays.Feed(store));
        await using TestRelay second = await TestRelay.StartAsync(Relays.Feed(store));
        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(first.Address, second.Address), callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client before the failover");
        for (int i = 0; i < 10; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), $"changed-{i}"));
        }

        await Relays.ConvergedAsync(callbacks, store, "client after the writes");
        await Eventually.True(() => syncer.ConnectedEndpoint is not null, "the client is connected");
        (TestRelay victim, TestRelay survivor) = syncer.ConnectedEndpoint == first.Address ? (first, second) : (second, first);
        await Eventually.True(() => survivor.Feed().Status == SyncStatus.InSync && survivor.Feed().KeyCount == 100, "the survivor has the store");
        using var snapshots = new RelayCounter(survivor, "watchersync.relay.snapshots_sent");
        using var resumes = new RelayCounter(survivor, "watchersync.relay.resumes", "by");
        int before = callbacks.Calls.Count;

        await victim.KillAsync();
        await Eventually.True(() => syncer.ConnectedEndpoint == survivor.Address, "the client fails over");
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 7)), "after-failover"));
        await Relays.ConvergedAsync(callbacks, store, "client after the failover");

        snapshots.Count().Should().Be(0, "the survivor's log covers the client's picture: it continues it by revision");
        resumes.Count("revision").Should().Be(1);
        callbacks.Calls.Skip(before).OfType<Update[]>().SelectMany(b => b).Select(u => u.KVPair.Key.DefaultPath)
            .Should().Equal([Relays.Key(0, 7)], "nothing is reported again");
        callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task RelayRestart_ClientBackWhileTheRelayStillLists_ResumesByRevisionOnceItIsInSync()
    {
        await using var store = await StoreAsync(100);
        TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        int port = relay.Port;
        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(relay.Address), callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client before the restart");
        int before = callbacks.Calls.Count;
        await relay.KillAsync();

        // The relay comes back with an empty log, and cannot list until the client has reached it.
        var upstream = new FaultyBackend(store, seed: 4) { Faults = false, Down = true };
        await using TestRelay restarted = await TestRelay.StartAsync(Relays.Feed(upstream), port);
        using var snapshots = new RelayCounter(restarted, "watchersync.relay.snapshots_sent");
        using var resumes = new RelayCounter(restarted, "watchersync.relay.resumes", "by");
        await Eventually.True(() => restarted.Host.Connections.Count == 1, "the client reaches the restarted relay while it cannot list");
        upstream.Down = false;

        await Eventually.True(() => syncer.Resumes + syncer.Resyncs >= 2, "the client is served by the restarted relay");
        await Relays.ConvergedAsync(callbacks, store, "client after the restart");
        snapshots.Count().Should().Be(0, "the client waited for the relay's first list, whose end is its own picture");
        resumes.Count("revision").Should().Be(1);
        callbacks.Calls.Skip(before).OfType<Update[]>().Should().BeEmpty("nothing changed in the store");
        callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task DatastoreReset_ChangesTheEpoch_AndTheClientTakesASnapshot()
    {
        await using var original = await StoreAsync(20);
        await using var restored = new InMemoryBackend();
        for (int i = 0; i < 20; i++)
        {
            // Restored from an older backup and written again: the same revisions name other values.
            await restored.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), $"after-reset-{i}"));
        }

        var upstream = new FaultyBackend(original, seed: 3) { Faults = false };
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(upstream));
        await using ClientBehindProxy client = await ClientBehindProxy.StartAsync(relay, original);
        string epoch = relay.Feed().DatastoreEpoch;

        await client.CutAsync();
        upstream.ResetTo(restored);

        // A bystander connected directly shows when the relay has the restored store.
        var bystander = new RecordingCallbacks();
        await using var bystanderSyncer = new RelaySyncer(Relays.Client(relay.Address), bystander);
        bystanderSyncer.Start();
        await Relays.ConvergedAsync(bystander, restored, "the relay's bystander after the reset");
        relay.Feed().DatastoreEpoch.Should().NotBe(epoch, "the relay saw the datastore's revisions name other values");
        long snapshotsBefore = client.Snapshots.Count();

        client.Proxy.Restore();
        await Relays.ConvergedAsync(client.Callbacks, restored, "client after the reset");
        client.Snapshots.Count().Should().Be(snapshotsBefore + 1, "a position in another epoch is not continued");
        client.Resumes.Count().Should().Be(0);
        client.Callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task PositionNoLongerInTheLog_ClientTakesASnapshot()
    {
        await using var store = await StoreAsync(20);
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store, options => options.MaxLogBytes = 1024));
        await using ClientBehindProxy client = await ClientBehindProxy.StartAsync(relay, store);
        long position = relay.Feed().Sequence;

        await client.CutAsync();
        for (int i = 0; i < 4; i++)
        {
            // Each write is larger than the whole log: it pushes out everything before it.
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, i)), new string('x', 2048) + i));
            await Eventually.True(() => relay.Feed().Sequence > position + i, "the relay has the write");
        }

        relay.Feed().FirstSequence.Should().BeGreaterThan(position + 1, "the relay's log dropped what the client would need");

        client.Proxy.Restore();
        await Relays.ConvergedAsync(client.Callbacks, store, "client after the cut");
        client.Snapshots.Count().Should().Be(2, "what followed the client's position has left the log");
        client.Resumes.Count().Should().Be(0);
        client.Callbacks.Violations.Should().BeEmpty();
        client.Callbacks.AllUpdates.Where(u => u.UpdateType == UpdateType.Deleted).Should().BeEmpty("no key was deleted from the store");
    }

    [Theory]
    [InlineData("future sequence")]
    [InlineData("other log, no digest")]
    [InlineData("other epoch")]
    [InlineData("digest of another picture")]
    [InlineData("short digest")]
    public async Task PositionTheRelayCannotPlace_GetsASnapshot(string position)
    {
        await using var store = await StoreAsync(10);
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        await Eventually.True(() => relay.Feed().Status == SyncStatus.InSync, "the relay is in sync");
        RelayFeed feed = relay.Feed();
        var hello = RawCalls.Hello();
        hello.Hello.Position = position switch
        {
            "future sequence" => new Position { LogId = feed.LogId, DatastoreEpoch = feed.DatastoreEpoch, Sequence = (ulong)feed.Sequence + 5 },
            "other log, no digest" => new Position { LogId = "another", DatastoreEpoch = feed.DatastoreEpoch, Sequence = 1 },
            "other epoch" => new Position { LogId = feed.LogId, DatastoreEpoch = "elsewhere#0", Sequence = (ulong)feed.Sequence },
            "digest of another picture" => new Position { LogId = "another", DatastoreEpoch = feed.DatastoreEpoch, Digest = PictureDigest.ToBytes(12345), Keys = 10 },
            _ => new Position { LogId = "another", DatastoreEpoch = feed.DatastoreEpoch, Digest = Google.Protobuf.ByteString.CopyFrom(1, 2, 3) },
        };

        List<ServerMessage> messages = await RawCalls.FirstMessagesAsync(relay.Address, hello, 2);
        messages[0].Welcome.Resumed.Should().BeFalse();
        messages[0].Welcome.LogId.Should().Be(feed.LogId);
        messages[1].KindCase.Should().Be(ServerMessage.KindOneofCase.SnapshotChunk, "a relay that cannot place the client sends the snapshot");
    }

    [Fact]
    public async Task PositionAtTheHeadOfThisLog_IsContinued_WithNoSnapshotChunk()
    {
        await using var store = await StoreAsync(10);
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        await Eventually.True(() => relay.Feed().Status == SyncStatus.InSync, "the relay is in sync");
        RelayFeed feed = relay.Feed();
        var hello = RawCalls.Hello();
        hello.Hello.Position = new Position { LogId = feed.LogId, DatastoreEpoch = feed.DatastoreEpoch, Sequence = (ulong)feed.Sequence };
        List<ServerMessage> messages = await RawCalls.FirstMessagesAsync(relay.Address, hello, 1);
        messages[0].Welcome.Resumed.Should().BeTrue();
        messages[0].Welcome.SnapshotSequence.Should().Be((ulong)feed.Sequence);
        messages[0].Welcome.Status.Should().Be(FeedStatus.InSync);

        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 50)), "next"));
        messages = await RawCalls.FirstMessagesAsync(relay.Address, hello, 2);
        messages[1].KindCase.Should().Be(ServerMessage.KindOneofCase.Deltas, "the log follows the welcome, with no snapshot between");
    }

    private static async Task<InMemoryBackend> StoreAsync(int keys)
    {
        var store = new InMemoryBackend();
        for (int i = 0; i < keys; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), $"v{i}"));
        }

        return store;
    }

    /// <summary>A client that reaches <paramref name="relay"/> through a proxy the test cuts, with the relay's snapshot and resume counters.</summary>
    private sealed class ClientBehindProxy : IAsyncDisposable
    {
        private ClientBehindProxy(TestRelay relay)
        {
            Snapshots = new RelayCounter(relay, "watchersync.relay.snapshots_sent");
            Resumes = new RelayCounter(relay, "watchersync.relay.resumes", "by");
            Proxy = new TcpProxy(relay.Address.ToString());
            Syncer = new RelaySyncer(Relays.Client(new Uri(Proxy.Url)), Callbacks);
        }

        public RelayCounter Snapshots { get; }

        public RelayCounter Resumes { get; }

        public TcpProxy Proxy { get; }

        public RecordingCallbacks Callbacks { get; } = new();

        public RelaySyncer Syncer { get; }

        /// <summary>Starts the client and waits until it holds <paramref name="store"/>'s picture.</summary>
        public static async Task<ClientBehindProxy> StartAsync(TestRelay relay, IBackendClient store)
        {
            var client = new ClientBehindProxy(relay);
            client.Syncer.Start();
            await Relays.ConvergedAsync(client.Callbacks, store, "client before the cut");
            return client;
        }

        /// <summary>Cuts the network and waits until the client has noticed.</summary>
        public async Task CutAsync()
        {
            Proxy.Cut();
            await Eventually.True(() => Syncer.ConnectedEndpoint is null, "the client notices the cut");
        }

        public async ValueTask DisposeAsync()
        {
            await Syncer.DisposeAsync();
            await Proxy.DisposeAsync();
            Snapshots.Dispose();
            Resumes.Dispose();
        }
    }
}
