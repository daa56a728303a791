using System.Text;
using FluentAssertions;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Testing;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.InMemory;
using WatcherSync.Relay.Protocol;
using WatcherSync.Relay.Server;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// Compression negotiated per client: a client that asks is sent the shared compressed form of each chunk (made once,
/// however many clients take it), one that does not is sent the plain bytes, and both hold the same picture. Each case
/// on a real relay on loopback.
/// </summary>
public sealed class RelayCompressionTests
{
    [Fact]
    public async Task CompressedAndPlainClients_OnOneRelay_ConvergeToTheSamePicture_ThroughSnapshotDeltasResumeAndLargeValues()
    {
        await using var store = await StoreAsync(400);
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        using var plainBytes = new RelayCounter(relay, "watchersync.relay.compression.plain_bytes");
        using var sentBytes = new RelayCounter(relay, "watchersync.relay.compression.sent_bytes");
        using var resumes = new RelayCounter(relay, "watchersync.relay.resumes", "by");
        await using var proxy = new TcpProxy(relay.Address.ToString());
        var compressed = new RecordingCallbacks();
        var plain = new RecordingCallbacks();
        RelaySyncerOptions compressedOptions = Relays.Client(new Uri(proxy.Url));
        compressedOptions.Compression = true;
        await using var compressedSyncer = new RelaySyncer(compressedOptions, compressed);
        await using var plainSyncer = new RelaySyncer(Relays.Client(relay.Address), plain);
        compressedSyncer.Start();
        plainSyncer.Start();
        await Relays.ConvergedAsync(compressed, store, "the compressed client (snapshot)");
        await Relays.ConvergedAsync(plain, store, "the plain client (snapshot)");
        sentBytes.Count().Should().BeLessThan(plainBytes.Count() / 3, "JSON-like values shrink several times");

        for (int i = 0; i < 100; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), Json(i, "updated")));
        }

        await store.DeleteAsync(new PathKey(Relays.Key(1, 399)));
        await Relays.ConvergedAsync(compressed, store, "the compressed client (deltas)");
        await Relays.ConvergedAsync(plain, store, "the plain client (deltas)");

        proxy.Cut();
        await Eventually.True(() => compressedSyncer.ConnectedEndpoint is null, "the compressed client notices the cut");
        for (int i = 100; i < 150; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), Json(i, "during the cut")));
        }

        // Large values near the message bound (the relay's MaxValueBytes, 16 MiB): one compressible, one not.
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 900)), Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 700_000).Select(i => Json(i, "big")[..22])))));
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(1, 901)), Random(15 * 1024 * 1024)));
        proxy.Restore();
        await Relays.ConvergedAsync(compressed, store, "the compressed client (resumed, large values)", TimeSpan.FromSeconds(60));
        await Relays.ConvergedAsync(plain, store, "the plain client (large values)", TimeSpan.FromSeconds(60));

        resumes.Count("sequence").Should().Be(1, "the compressed client resumed from its position");
        Relays.Same(Relays.AsText(compressed.Picture), Relays.AsText(plain.Picture)).Should().BeTrue();
        compressed.Violations.Should().BeEmpty();
        plain.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task EachChunk_IsCompressedOnce_HoweverManyClientsAskForIt()
    {
        await using var store = await StoreAsync(2000);
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        using var compressions = new RelayCounter(relay, "watchersync.relay.compression.chunks", "paid");
        using var snapshots = new RelayCounter(relay, "watchersync.relay.snapshots_encoded");
        await Eventually.True(() => relay.Feed().Status == SyncStatus.InSync && relay.Feed().KeyCount == 2000, "the relay has the store");
        var clients = new List<(RelaySyncer Syncer, RecordingCallbacks Callbacks)>();
        try
        {
            for (int i = 0; i < 6; i++)
            {
                RelaySyncerOptions options = Relays.Client(relay.Address);
                options.Compression = true;
                var callbacks = new RecordingCallbacks();
                var syncer = new RelaySyncer(options, callbacks);
                clients.Add((syncer, callbacks));
                syncer.Start();
            }

            foreach ((_, RecordingCallbacks callbacks) in clients)
            {
                await Relays.ConvergedAsync(callbacks, store, "a compressed client (snapshot)");
            }

            FeedSnapshot snapshot = await relay.Feed().GetSnapshotAsync();
            int snapshotChunks = snapshot.Chunks.Sum(b => b.Length);
            snapshotChunks.Should().BeGreaterThan(4);
            snapshots.Count().Should().Be(1, "no write happened: one snapshot served every client");
            compressions.Count().Should().Be(snapshotChunks, "six clients took the snapshot; each chunk was compressed once");
            compressions.Count("True").Should().Be(snapshotChunks, "JSON-like values pay");

            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), Json(1, "changed")));
            foreach ((_, RecordingCallbacks callbacks) in clients)
            {
                await Relays.ConvergedAsync(callbacks, store, "a compressed client (delta)");
            }

            compressions.Count().Should().BeInRange(snapshotChunks + 1, snapshotChunks + 1, "the delta's one chunk was compressed once for six clients");
        }
        finally
        {
            foreach ((RelaySyncer syncer, _) in clients)
            {
                await syncer.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ValuesThatDoNotCompress_AreSentPlain_EvenToAClientThatAsks()
    {
        var store = new InMemoryBackend();
        for (int i = 0; i < 200; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), Random(500)));
        }

        await using (store)
        {
            await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
            using var compressions = new RelayCounter(relay, "watchersync.relay.compression.chunks", "paid");
            using var plainBytes = new RelayCounter(relay, "watchersync.relay.compression.plain_bytes");
            using var sentBytes = new RelayCounter(relay, "watchersync.relay.compression.sent_bytes");
            await Eventually.True(() => relay.Feed().Status == SyncStatus.InSync && relay.Feed().KeyCount == 200, "the relay has the store");

            List<ServerMessage> messages = await RawCalls.FirstMessagesAsync(relay.Address, HelloAccepting(RelayProtocol.Brotli), 4);
            messages.Where(m => m.KindCase == ServerMessage.KindOneofCase.SnapshotChunk && !m.SnapshotChunk.Entries.IsEmpty)
                .Should().NotBeEmpty().And.OnlyContain(m => m.SnapshotChunk.Encoding == string.Empty, "random bytes do not shrink by an eighth");

            var callbacks = new RecordingCallbacks();
            RelaySyncerOptions options = Relays.Client(relay.Address);
            options.Compression = true;
            await using var syncer = new RelaySyncer(options, callbacks);
            syncer.Start();
            await Relays.ConvergedAsync(callbacks, store, "the compressed client");
            compressions.Count("False").Should().BeGreaterThan(0);
            compressions.Count("True").Should().Be(0);
            sentBytes.Count().Should().Be(plainBytes.Count(), "every chunk went plain");
        }
    }

    [Fact]
    public async Task OldClient_ThatSendsNoEncodings_GetsPlainBytes_AndANewClientGetsBrotli()
    {
        await using var store = await StoreAsync(300);
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        await Eventually.True(() => relay.Feed().Status == SyncStatus.InSync && relay.Feed().KeyCount == 300, "the relay has the store");

        List<ServerMessage> old = await RawCalls.FirstMessagesAsync(relay.Address, RawCalls.Hello(), 3);
        List<ServerMessage> unknownOnly = await RawCalls.FirstMessagesAsync(relay.Address, HelloAccepting("zstd"), 3);
        List<ServerMessage> asking = await RawCalls.FirstMessagesAsync(relay.Address, HelloAccepting("zstd", RelayProtocol.Brotli), 3);

        foreach (List<ServerMessage> plain in new[] { old, unknownOnly })
        {
            ServerMessage chunk = plain.First(m => m.KindCase == ServerMessage.KindOneofCase.SnapshotChunk);
            chunk.SnapshotChunk.Encoding.Should().BeEmpty();
            KeyValueBatch.Parser.ParseFrom(chunk.SnapshotChunk.Entries).Items.Should().NotBeEmpty("plain bytes parse as they are");
        }

        ServerMessage compressed = asking.First(m => m.KindCase == ServerMessage.KindOneofCase.SnapshotChunk);
        compressed.SnapshotChunk.Encoding.Should().Be(RelayProtocol.Brotli);
        ServerMessage same = old.First(m => m.KindCase == ServerMessage.KindOneofCase.SnapshotChunk);
        BatchDecoder.Entries(compressed.SnapshotChunk, 64 * 1024 * 1024).Should().Equal(same.SnapshotChunk.Entries, "the compressed form decodes to the plain chunk");
    }

    [Fact]
    public async Task NewClient_OnARelayThatDoesNotCompress_GetsPlainBytes_AndConverges()
    {
        await using var store = await StoreAsync(300);
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store, options => options.Compression = false));
        using var compressions = new RelayCounter(relay, "watchersync.relay.compression.chunks", "paid");
        var callbacks = new RecordingCallbacks();
        RelaySyncerOptions options = Relays.Client(relay.Address);
        options.Compression = true;
        await using var syncer = new RelaySyncer(options, callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "the compressed client (snapshot)");
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 2)), Json(2, "changed")));
        await Relays.ConvergedAsync(callbacks, store, "the compressed client (delta)");

        compressions.Count().Should().Be(0, "a relay with compression off (or one that does not know the field) sends plain bytes");
        callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task Bomb_FromAHostileRelay_IsRefused_AsAProtocolError_AndNothingIsApplied()
    {
        // 256 MiB of zeros in one snapshot chunk: a few hundred bytes on the wire, four times the client's message bound.
        ByteString bomb = BatchDecoderTests.Brotli(new byte[256 * 1024 * 1024]);
        await using HostileRelay hostile = await HostileRelay.StartAsync(
            new ServerMessage { Welcome = new Welcome { ProtocolVersion = RelayProtocol.Version, Feed = "default", ServerName = "hostile", SnapshotSequence = 1, HeadSequence = 1 } },
            new ServerMessage { SnapshotChunk = new SnapshotChunk { Sequence = 1, Entries = bomb, Encoding = RelayProtocol.Brotli } });
        var logs = new FakeLogCollector();
        var callbacks = new RecordingCallbacks();
        RelaySyncerOptions options = Relays.Client(hostile.Address);
        options.Compression = true;
        options.LoggerFactory = FakeLogs.Factory(logs);
        await using var syncer = new RelaySyncer(options, callbacks);
        syncer.Start();

        await Eventually.True(() => hostile.Hellos.Count >= 2, "the client drops the hostile relay and tries again");
        hostile.Hellos[0].AcceptEncodings.Should().Equal(RelayProtocol.Brotli);
        logs.GetSnapshot().Should().Contain(r => r.Message.Contains("decompresses to more than 67108864 bytes", StringComparison.Ordinal), "the refusal says why");
        callbacks.AllUpdates.Should().BeEmpty();
        callbacks.Statuses.Should().NotContain(SyncStatus.InSync);
    }

    private static ClientMessage HelloAccepting(params string[] encodings)
    {
        ClientMessage hello = RawCalls.Hello();
        hello.Hello.AcceptEncodings.AddRange(encodings);
        return hello;
    }

    /// <summary>A value shaped like a Kubernetes/Calico resource as JSON, some fields varying per key.</summary>
    private static string Json(int i, string note) =>
        $"{{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"WorkloadEndpoint\",\"metadata\":{{\"name\":\"node{i % 50}-k8s-pod{i}-eth0\",\"namespace\":\"ns{i % 20}\",\"labels\":{{\"app\":\"app{i % 30}\",\"note\":\"{note}\"}}}},\"spec\":{{\"ipNetworks\":[\"10.{i % 250}.{i / 250 % 250}.{i % 7}/32\"],\"node\":\"node{i % 50}\",\"profiles\":[\"kns.ns{i % 20}\"]}}}}";

    private static byte[] Random(int length)
    {
        byte[] bytes = new byte[length];
        System.Random.Shared.NextBytes(bytes);
        return bytes;
    }

    private static async Task<InMemoryBackend> StoreAsync(int keys)
    {
        var store = new InMemoryBackend();
        for (int i = 0; i < keys; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), Json(i, "initial")));
        }

        return store;
    }
}
