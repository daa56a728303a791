using System.Net;
using System.Net.Sockets;
using System.Text;
using FluentAssertions;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Testing;
using WatcherSync.InMemory;
using WatcherSync.Relay.Protocol;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>Edge cases of compression negotiated per client, each on a real relay (or a scripted hostile one) on loopback.</summary>
public sealed class RelayCompressionRefusalTests
{
    /// <summary>
    /// A Deltas message whose first batch is plain and valid (a delete) and whose second is a compressed batch that does
    /// not decode: the message is refused as a protocol error, "nothing applied". The client then fails over to a
    /// healthy relay that does not hold the deleted key: the consumer must end up with that relay's picture.
    /// </summary>
    [Fact]
    public async Task DeltasWithABadCompressedBatch_AfterAGoodOne_LeaveNoHalfAppliedMessage_TheConsumerConvergesOnTheNextRelay()
    {
        string kept = Relays.Key(0, 1);
        string doomed = Relays.Key(0, 2);
        KeyValueBatch snapshot = new() { Items = { new KeyValue { Key = doomed, Value = ByteString.CopyFromUtf8("doomed"), Revision = "1" } } };
        KeyValueBatch delete = new() { Items = { new KeyValue { Key = doomed, Revision = "2", Deleted = true } } };
        ByteString corrupt = ByteString.CopyFrom(Enumerable.Range(0, 200).Select(i => (byte)(i * 37 + 11)).ToArray());
        var deltas = new Deltas { Sequence = 2 };
        deltas.Batches.Add(delete.ToByteString());
        deltas.Batches.Add(corrupt);
        deltas.Encodings.Add(string.Empty);
        deltas.Encodings.Add(RelayProtocol.Brotli);
        HostileRelay hostile = await HostileRelay.StartAsync(
            new ServerMessage { Welcome = new Welcome { ProtocolVersion = RelayProtocol.Version, Feed = "default", ServerName = "hostile", SnapshotSequence = 1, HeadSequence = 1, LogId = "hostile-log" } },
            new ServerMessage { SnapshotChunk = new SnapshotChunk { Sequence = 1, Entries = snapshot.ToByteString() } },
            new ServerMessage { SnapshotChunk = new SnapshotChunk { Sequence = 1, Last = true, Status = FeedStatus.InSync } },
            new ServerMessage { Deltas = deltas });

        bool hostileUp = true;
        try
        {
            // The healthy relay's endpoint is known to the client from the start but listens only once the hostile one failed.
            int port = FreePort();
            var logs = new FakeLogCollector();
            var callbacks = new RecordingCallbacks();
            RelaySyncerOptions options = Relays.Client(hostile.Address, new Uri($"http://127.0.0.1:{port}"));
            options.Compression = true;
            options.LoggerFactory = FakeLogs.Factory(logs);
            await using var syncer = new RelaySyncer(options, callbacks);
            syncer.Start();
            await Eventually.True(
                () => logs.GetSnapshot().Any(r => r.Message.Contains("is not valid br", StringComparison.Ordinal)),
                "the client refuses the bad compressed batch");
            callbacks.Picture.Should().ContainKey(doomed, "the hostile relay's snapshot was delivered before its bad message");

            await using var store = new InMemoryBackend();
            for (int i = 0; i < 5; i++)
            {
                await store.ApplyAsync(new KVPair(new PathKey(kept), Encoding.UTF8.GetBytes($"kept {i}")));
            }

            await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store), port: port);
            await hostile.DisposeAsync();
            hostileUp = false;
            await Eventually.True(() => syncer.ConnectedEndpoint?.Port == port, "the client moves to the healthy relay");

            // The healthy relay has no such key: the consumer must lose it (a delete), as the relay's picture says.
            await Eventually.True(
                () => callbacks.LastStatus == SyncStatus.InSync && callbacks.Picture.ContainsKey(kept),
                "the client is in sync with the healthy relay");
            callbacks.Picture.Keys.Should().BeEquivalentTo([kept], "the healthy relay does not hold {0}, and the consumer was never told it was deleted", doomed);
        }
        finally
        {
            if (hostileUp)
            {
                await hostile.DisposeAsync();
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
