using System.Text;
using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Relay.Server;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>Attacks on resume without a snapshot: each test shows a way a resumed client ends up wrong.</summary>
public sealed class RedResumeTests
{
    [Fact]
    public async Task KeyDroppedForAnUndecodableValue_FailoverByDigest_DoesNotBringBackItsOlderValue()
    {
        await using var store = new InMemoryBackend();
        for (int i = 0; i < 10; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), $"v{i}"));
        }

        await using TestRelay first = await TestRelay.StartAsync(Relays.Feed(store));
        await using TestRelay second = await TestRelay.StartAsync(Relays.Feed(store));
        await Eventually.True(() => first.Feed().Status == SyncStatus.InSync && second.Feed().Status == SyncStatus.InSync, "both relays are in sync");
        var callbacks = new RecordingCallbacks();
        RelaySyncerOptions options = Relays.Client(first.Address, second.Address);
        options.Codec = new FussyDecoder();
        await using var syncer = new RelaySyncer(options, callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client before the writes");

        // A key the client holds, then a value of it the client's codec cannot decode: the client drops the key.
        string key = Relays.Key(0, 50);
        await store.ApplyAsync(new KVPair(new PathKey(key), "fine"));
        await Eventually.True(() => callbacks.Picture.ContainsKey(key), "the client holds the key");
        await store.ApplyAsync(new KVPair(new PathKey(key), "undecodable"));
        await Eventually.True(() => !callbacks.Picture.ContainsKey(key), "the client drops the key whose new value it cannot decode");
        await Eventually.True(() => syncer.ConnectedEndpoint is not null, "the client is connected");
        (TestRelay victim, TestRelay survivor) = syncer.ConnectedEndpoint == first.Address ? (first, second) : (second, first);
        await Eventually.True(() => survivor.Feed().KeyCount == 11 && survivor.Feed().Sequence == victim.Feed().Sequence, "the survivor has the writes");
        int before = callbacks.Calls.Count;

        await victim.KillAsync();
        await Eventually.True(() => syncer.ConnectedEndpoint == survivor.Address, "the client fails over");
        string marker = Relays.Key(1, 51);
        await store.ApplyAsync(new KVPair(new PathKey(marker), "after-failover"));
        await Eventually.True(() => callbacks.LastStatus == SyncStatus.InSync && callbacks.Picture.ContainsKey(marker), "the client has the write after the failover");

        callbacks.Calls.Skip(before).OfType<Update[]>().SelectMany(b => b)
            .Where(u => u.KVPair.Key.DefaultPath == key)
            .Select(u => $"{u.UpdateType} {Relays.Text(u.KVPair.Value)} @{u.KVPair.Revision}")
            .Should().BeEmpty("the datastore no longer has the value 'fine': the client must not be told it again after the failover");
        callbacks.Violations.Should().BeEmpty();
    }

    /// <summary>A codec that cannot decode the value "undecodable".</summary>
    private sealed class FussyDecoder : IValueCodec
    {
        public object Decode(string key, ReadOnlyMemory<byte> data) => Encoding.UTF8.GetString(data.Span) == "undecodable"
            ? throw new FormatException("This codec cannot decode that value.")
            : data.ToArray();

        public byte[] Encode(object value) => (byte[])value;
    }
}
