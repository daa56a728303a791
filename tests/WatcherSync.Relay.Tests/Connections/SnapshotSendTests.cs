using FluentAssertions;
using Google.Protobuf;
using WatcherSync.InMemory;
using WatcherSync.Relay.Protocol;
using WatcherSync.Relay.Server;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// How a snapshot goes out: its chunks are written to the response in batches of about 64 KiB, flushed once a batch is
/// full and after the last chunk. Batching must change neither what the client receives nor how a client that stops
/// reading is found.
/// </summary>
public sealed class SnapshotSendTests
{
    [Fact]
    public async Task SnapshotWrittenInBatches_ArrivesWhole_EachChunkItsOwnMessage_InOrder()
    {
        await using InMemoryBackend store = await StoreOfAsync(400);

        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        await Eventually.True(() => relay.Feed().Status == SyncStatus.InSync, "the feed is in sync");
        ByteString[] expected = [.. (await relay.Feed().GetSnapshotAsync()).Chunks.SelectMany(static c => c)];
        expected.Length.Should().BeGreaterThan(16, "the snapshot spans several 64 KiB batches of 16 KiB chunks");

        List<ServerMessage> messages = await RawCalls.FirstMessagesAsync(relay.Address, RawCalls.Hello(), expected.Length + 2);

        messages[0].KindCase.Should().Be(ServerMessage.KindOneofCase.Welcome);
        messages.Skip(1).Should().AllSatisfy(static m => m.KindCase.Should().Be(ServerMessage.KindOneofCase.SnapshotChunk));
        messages.Skip(1).Take(expected.Length).Select(static m => m.SnapshotChunk.Entries).Should().Equal(expected, "every chunk arrives as its own message, in order");
        messages[^1].SnapshotChunk.Last.Should().BeTrue("the last message closes the snapshot");
        messages.Skip(1).Take(expected.Length).Sum(static m => KeyValueBatch.Parser.ParseFrom(m.SnapshotChunk.Entries).Items.Count).Should().Be(400);
    }

    [Fact]
    public async Task FrozenClientTakingALongSnapshot_IsCutOffAtTheWriteTimeout_AsStalled()
    {
        await using InMemoryBackend store = await StoreOfAsync(4000);

        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store, options =>
        {
            // Silence is judged late, so that only a write blocked for WriteTimeout can end the call.
            options.PingTimeout = TimeSpan.FromMinutes(1);
            options.WriteTimeout = TimeSpan.FromMilliseconds(800);
        }));
        await Eventually.True(() => relay.Feed().Status == SyncStatus.InSync, "the feed is in sync");
        using var cutOffs = new RelayCounter(relay, "watchersync.relay.clients_cut_off");

        // A 4 MB snapshot: far more than the transport's windows and buffers hold for a client that reads nothing.
        using RawCalls.HeldCall held = await RawCalls.HoldAsync(relay.Address);

        await Eventually.True(() => cutOffs.Count("stalled") == 1, "the frozen client is cut off as stalled", TimeSpan.FromSeconds(30));
        await Eventually.True(() => relay.Host.Connections.Count == 0, "the frozen client's connection is gone");
        cutOffs.Count().Should().Be(1, "nothing else was cut off");
    }

    /// <summary>A store of <paramref name="keys"/> values of 1 KiB over both prefixes.</summary>
    private static async Task<InMemoryBackend> StoreOfAsync(int keys)
    {
        var store = new InMemoryBackend();
        string value = new('v', 1024);
        for (int i = 0; i < keys; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), value));
        }

        return store;
    }
}
