using System.Diagnostics;
using System.Text;
using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// What a fleet operator meets: a relay behind its peers, a key the consumer's parser rejects, a value the feed cannot
/// encode, a relay that loses its datastore, a relay down for a while. Each on a real relay with real clients.
/// </summary>
public sealed class RelayFleetTests
{
    [Fact]
    public async Task FailoverToARelayBehind_ClientNeverMovesBackwards_AndTakesItOnceItCatchesUp()
    {
        // The lagging relay's datastore is a replica that has applied fewer writes: same keys, same revisions, older.
        await using var ahead = new InMemoryBackend();
        await using var behind = new InMemoryBackend();
        for (int i = 0; i < 20; i++)
        {
            await ahead.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, i)), $"v{i}"));
            await behind.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, i)), $"v{i}"));
        }

        for (int i = 0; i < 5; i++)
        {
            await ahead.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, i)), $"newer{i}"));
        }

        TestRelay first = await TestRelay.StartAsync(Relays.Feed(ahead));
        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(first.Address), callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, ahead, "client of the relay ahead");
        int before = callbacks.Calls.Count;

        // The relay comes back on the same address over the lagging replica.
        int port = first.Port;
        await first.KillAsync();
        await using TestRelay lagging = await TestRelay.StartAsync(Relays.Feed(behind), port);
        await Eventually.True(() => lagging.Feed().SnapshotsEncoded >= 1, "the client has tried the lagging relay");
        await Eventually.True(() => lagging.Host.Connections.Count == 0 || callbacks.Calls.Count > before + 1, "the client has refused or taken the lagging relay");
        callbacks.Calls.Skip(before).OfType<Update[]>().SelectMany(b => b).Should().BeEmpty("the lagging relay's older values must not replace newer ones");

        // The replica catches up: now the relay is where the client was, and the client takes it.
        for (int i = 0; i < 5; i++)
        {
            await behind.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, i)), $"newer{i}"));
        }

        await Relays.ConvergedAsync(callbacks, behind, "client of the relay that caught up");
        await Eventually.True(() => syncer.ConnectedEndpoint == lagging.Address, "the client stays on the relay that caught up");
        callbacks.Violations.Should().BeEmpty();
        foreach (Dictionary<string, string> picture in Relays.PicturesAtInSync(callbacks.Calls, before))
        {
            picture[Relays.Key(0, 0)].Should().Be("newer0", "no InSync picture holds an older value than one already seen");
        }
    }

    [Fact]
    public async Task FailoverToARelayBehindOnOnePrefixOnly_IsRefused_ThoughItsHighestRevisionIsAhead()
    {
        // The lagging relay's watch of one resource type fell behind while the other went on: its highest revision is
        // ahead of the client's, its policy keys are not. Its policy list is one taken right after the last policy
        // write (the same values the store has now), so that nothing but that type's own progress says where it is.
        await using var ahead = new InMemoryBackend();
        await using var mixed = new InMemoryBackend();
        for (int i = 0; i < 10; i++)
        {
            await ahead.ApplyAsync(new KVPair(new PathKey(Relays.Key(1, i)), $"v{i}"));
            await mixed.ApplyAsync(new KVPair(new PathKey(Relays.Key(1, i)), $"v{i}"));
        }

        for (int i = 0; i < 10; i++)
        {
            await ahead.ApplyAsync(new KVPair(new PathKey(Relays.Key(1, i)), $"newer{i}"));
        }

        for (int n = 0; n < 30; n++)
        {
            await mixed.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 0)), $"host-{n}"));
        }

        TestRelay first = await TestRelay.StartAsync(Relays.Feed(ahead));
        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(first.Address), callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, ahead, "client of the relay ahead");
        int before = callbacks.Calls.Count;

        int port = first.Port;
        await first.KillAsync();
        await using TestRelay lagging = await TestRelay.StartAsync(Relays.Feed(new ListedWhenLastWritten(mixed, Relays.Prefixes[1])), port);
        await Eventually.True(() => lagging.Feed().SnapshotsEncoded >= 1, "the client has tried the lagging relay");
        await Eventually.True(() => lagging.Host.Connections.Count == 0 || callbacks.Calls.Count > before + 1, "the client has refused or taken the lagging relay");
        callbacks.Calls.Skip(before).OfType<Update[]>().SelectMany(b => b).Where(u => u.KVPair.Key.DefaultPath.StartsWith(Relays.Prefixes[1], StringComparison.Ordinal))
            .Should().BeEmpty("the lagging relay's older policy values must not replace newer ones");
        callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task RelayRestartAfterADelete_IsNotTakenForARelayBehind()
    {
        // The last write is a delete: a relay that lists afresh sees no key at that revision, yet it is not behind.
        await using var store = new InMemoryBackend();
        for (int i = 0; i < 10; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, i)), $"v{i}"));
        }

        TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(relay.Address), callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client");
        await store.DeleteAsync(new PathKey(Relays.Key(0, 9)));
        await Relays.ConvergedAsync(callbacks, store, "client after the delete");

        int port = relay.Port;
        await relay.KillAsync();
        await using TestRelay restarted = await TestRelay.StartAsync(Relays.Feed(store), port);
        await Eventually.True(() => syncer.Resyncs + syncer.Resumes >= 2, "the client takes the restarted relay well before DisconnectedTimeout (1 min)");
        await Relays.ConvergedAsync(callbacks, store, "client after the restart");
    }

    [Fact]
    public async Task KeyParserThrows_IsAParseFailure_AndTheClientGoesOnAndStops()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "fine"));
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 666)), "unparseable key"));
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        var callbacks = new RecordingCallbacks();
        RelaySyncerOptions options = Relays.Client(relay.Address);
        options.KeyParser = path => path.EndsWith("k0666", StringComparison.Ordinal) ? throw new FormatException("not a key") : new PathKey(path);
        var syncer = new RelaySyncer(options, callbacks);
        syncer.Start();
        await Eventually.True(() => callbacks.LastStatus == SyncStatus.InSync && callbacks.Picture.ContainsKey(Relays.Key(0, 1)), "the client syncs the other keys");
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 2)), "later"));
        await Eventually.True(() => callbacks.Picture.ContainsKey(Relays.Key(0, 2)), "the client goes on after the parse failure");
        callbacks.Calls.OfType<RecordingCallbacks.ParseFailedCall>().Should().Contain(c => c.RawKey == Relays.Key(0, 666));

        await Eventually.Within(syncer.StopAsync().ContinueWith(_ => true, TaskScheduler.Default), "stop completes");
        callbacks.Picture.Should().BeEmpty("stop reports every held key deleted");
        callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task ValueTheClientsCodecCannotDecode_IsAParseFailure_AsFromADirectSyncer_AndTheClientGoesOn()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "fine"));
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 2)), "undecodable"));
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        var callbacks = new RecordingCallbacks();
        RelaySyncerOptions options = Relays.Client(relay.Address);

        // The consumer's codec is its own code: like a direct syncer, the client takes whatever it throws for a parse failure.
        options.Codec = new FussyDecoder();
        await using var syncer = new RelaySyncer(options, callbacks);
        syncer.Start();
        await Eventually.True(() => callbacks.LastStatus == SyncStatus.InSync && callbacks.Picture.ContainsKey(Relays.Key(0, 1)), "the client syncs the other keys");
        callbacks.Calls.OfType<RecordingCallbacks.ParseFailedCall>().Should().ContainSingle(c => c.RawKey == Relays.Key(0, 2) && c.RawValue == "undecodable");

        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "undecodable"));
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 3)), "later"));
        await Eventually.True(
            () => callbacks.Picture.ContainsKey(Relays.Key(0, 3)) && !callbacks.Picture.ContainsKey(Relays.Key(0, 1)),
            "the client goes on, and drops a held key whose new value it cannot decode");
        callbacks.Calls.OfType<RecordingCallbacks.ParseFailedCall>().Should().Contain(c => c.RawKey == Relays.Key(0, 1));
        callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task ValueTheFeedCannotEncode_ClientsDoNotKeepTheOldValue()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "fine"));
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store, options => options.Feeds[0].Codec = new PickyCodec()));
        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(relay.Address), callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client");

        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "unencodable"));
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 2)), "after"));
        await Eventually.True(
            () => callbacks.Picture.ContainsKey(Relays.Key(0, 2)) && !callbacks.Picture.ContainsKey(Relays.Key(0, 1)),
            "the client drops the value the datastore no longer has");
        callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task RelayLosesItsDatastore_ClientsHearSyncFailed_AsFromADirectSyncer()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "v"));
        var upstream = new FaultyBackend(store, seed: 5) { Faults = false };
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(upstream, options => options.Feeds[0].SyncerOptions!.WatchRetryTimeout = TimeSpan.FromMilliseconds(300)));
        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(relay.Address), callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client");

        upstream.Down = true;
        await Eventually.True(() => callbacks.LastStatus == SyncStatus.WaitForDatastore, "the client hears the relay lost its datastore");
        await Eventually.True(() => callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Any(), "the client hears SyncFailed, as from a direct syncer");
        upstream.Down = false;
        await Relays.ConvergedAsync(callbacks, store, "client after the datastore is back");
    }

    [Fact]
    public async Task RelayDownForSeconds_ClientIsBackWithinItsOwnBackoff_NotTheChannels()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "v"));
        TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        int port = relay.Port;
        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(relay.Address), callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client");
        await relay.KillAsync();

        // An outage long enough for a channel's own backoff (1 s growing by 1.6) to reach several seconds.
        var outage = Stopwatch.StartNew();
        await Eventually.True(() => outage.Elapsed > TimeSpan.FromSeconds(12), "the outage lasts", TimeSpan.FromSeconds(30));
        await using TestRelay back = await TestRelay.StartAsync(Relays.Feed(store), port);
        await Eventually.True(() => back.Host.Connections.Count == 1, "the client is back within a few of its own delays (300 ms at most each)", TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task PermanentRefusal_IsSyncFailedAtOnce_WithTheRelaysReason()
    {
        await using var store = new InMemoryBackend();
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        var callbacks = new RecordingCallbacks();
        RelaySyncerOptions options = Relays.Client(relay.Address);
        options.Feed = "no-such-feed";
        await using var syncer = new RelaySyncer(options, callbacks);
        syncer.Start();
        await Eventually.True(() => callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Any(), "a refusal that retrying cannot cure is reported at once, not after DisconnectedTimeout");
        callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().First().Error.Message.Should().Contain("no-such-feed");
        syncer.Status.Should().Be(SyncStatus.WaitForDatastore, "it has never been in sync");
    }

    /// <summary>A client codec that cannot decode the value "undecodable", and says so with a FormatException.</summary>
    private sealed class FussyDecoder : IValueCodec
    {
        public object Decode(string key, ReadOnlyMemory<byte> data) => Encoding.UTF8.GetString(data.Span) == "undecodable"
            ? throw new FormatException("This codec cannot decode that value.")
            : data.ToArray();

        public byte[] Encode(object value) => (byte[])value;
    }

    /// <summary>A codec that cannot encode the value "unencodable" (as a JSON codec cannot encode some objects).</summary>
    private sealed class PickyCodec : IValueCodec
    {
        public object Decode(string key, ReadOnlyMemory<byte> data) => data.ToArray();

        public byte[] Encode(object value) => value as string == "unencodable"
            ? throw new ArgumentException("This codec cannot encode that value.", nameof(value))
            : Encoding.UTF8.GetBytes((string)value);
    }

    /// <summary>Answers the lists under <paramref name="prefix"/> as of the newest write there: the same values, an honest older revision.</summary>
    private sealed class ListedWhenLastWritten(IBackendClient inner, string prefix) : DelegatingBackend(inner)
    {
        public override async Task<KVPairList> ListAsync(IListOptions list, string? revision = null, CancellationToken cancellationToken = default)
        {
            KVPairList listed = await base.ListAsync(list, revision, cancellationToken);
            return list.DefaultPathRoot == prefix && listed.KVPairs.Count > 0
                ? listed with { Revision = listed.KVPairs.Max(p => long.Parse(p.Revision!, System.Globalization.CultureInfo.InvariantCulture)).ToString(System.Globalization.CultureInfo.InvariantCulture) }
                : listed;
        }
    }
}
