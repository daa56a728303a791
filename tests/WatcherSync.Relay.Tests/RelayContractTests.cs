using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// The relay client against a direct syncer on the same store: under random (seeded, replayable) writes, deletes,
/// compactions and forced relists, both reach the store's picture at every checkpoint, neither makes an impossible
/// call, and their status sequences agree.
/// </summary>
public sealed class RelayContractTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1)]
    [InlineData(42)]
    [InlineData(20261202)]
    public async Task RelaySyncer_MatchesDirectSyncer_UnderRandomWritesCompactionsAndRelists(int seed)
    {
        output.WriteLine($"seed {seed} (replay with this InlineData)");
        var random = new Random(seed);
        await using var store = new InMemoryBackend();

        // Relists come from injected watch faults (compaction errors among them) on both sides, each with its own seed.
        var feedBackend = new FaultyBackend(store, seed, faultRate: 0.2) { Faults = false };
        var directBackend = new FaultyBackend(store, seed + 1, faultRate: 0.2) { Faults = false };
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(feedBackend));

        var direct = new RecordingCallbacks();
        var relayed = new RecordingCallbacks();
        await using var directSyncer = new WatcherSyncer(directBackend, Relays.Types, direct, Relays.FastSyncer("direct"));
        await using var relaySyncer = new RelaySyncer(Relays.Client(relay.Address), relayed);
        for (int i = 0; i < 20; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), $"initial-{i}"));
        }

        directSyncer.Start();
        relaySyncer.Start();
        await Relays.ConvergedAsync(direct, store, "direct syncer");
        await Relays.ConvergedAsync(relayed, store, "relay client");

        // Without relists, the two status sequences are the same call for call.
        relayed.Statuses.Should().Equal(direct.Statuses);

        for (int round = 0; round < 4; round++)
        {
            bool faults = round % 2 == 1;
            feedBackend.Faults = faults;
            directBackend.Faults = faults;
            for (int op = 0; op < 150; op++)
            {
                int roll = random.Next(100);
                string key = Relays.Key(random.Next(2), random.Next(60));
                if (roll < 65)
                {
                    await store.ApplyAsync(new KVPair(new PathKey(key), $"v{round}-{op}-{random.Next(1000)}"));
                }
                else if (roll < 95)
                {
                    try
                    {
                        await store.DeleteAsync(new PathKey(key));
                    }
                    catch (ResourceNotFoundException)
                    {
                    }
                }
                else if (store.Revision > store.CompactRevision)
                {
                    store.Compact(store.Revision);
                }
            }

            // Faults stay on while the syncers catch up, so that they hit the events in flight.
            await Relays.ConvergedAsync(direct, store, $"direct syncer after round {round}");
            await Relays.ConvergedAsync(relayed, store, $"relay client after round {round}");
            feedBackend.Faults = false;
            directBackend.Faults = false;
            output.WriteLine($"round {round}: {store.Count} keys, faults injected feed={feedBackend.Injected} direct={directBackend.Injected}");
        }

        feedBackend.Injected.Should().BePositive("the feed's syncer must have been made to recover");
        directBackend.Injected.Should().BePositive("the direct syncer must have been made to recover");
        direct.Violations.Should().BeEmpty();
        relayed.Violations.Should().BeEmpty();
        Relays.AsText(relayed.Picture).Should().Equal(Relays.AsText(direct.Picture));

        // Both tell the same story: they start resyncing, every relist goes ResyncInProgress -> InSync, and neither
        // goes back to WaitForDatastore while the store is reachable.
        relayed.Statuses[0].Should().Be(SyncStatus.ResyncInProgress);
        relayed.Statuses.Should().NotContain(SyncStatus.WaitForDatastore);
        direct.Statuses.Should().NotContain(SyncStatus.WaitForDatastore);
        relayed.Statuses.Should().HaveCountGreaterThan(1).And.Subject.Last().Should().Be(SyncStatus.InSync);
        relaySyncer.Resyncs.Should().Be(1, "the connection never broke, so the client took one snapshot");
    }

    [Fact]
    public async Task RelaySyncer_NarrowedToAPrefix_SeesOnlyThatPrefix()
    {
        await using var store = new InMemoryBackend();
        for (int i = 0; i < 10; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), $"v{i}"));
        }

        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        var callbacks = new RecordingCallbacks();
        RelaySyncerOptions options = Relays.Client(relay.Address);
        options.Prefixes.Add(Relays.Prefixes[1]);
        await using var syncer = new RelaySyncer(options, callbacks);
        syncer.Start();
        await Eventually.True(() => callbacks.LastStatus == SyncStatus.InSync && callbacks.Picture.Count == 5, "the narrowed client holds the policy keys");
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 100)), "host"));
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(1, 100)), "policy"));
        await Eventually.True(() => callbacks.Picture.ContainsKey(Relays.Key(1, 100)), "the policy write arrives");

        callbacks.Picture.Keys.Should().OnlyContain(k => k.StartsWith(Relays.Prefixes[1], StringComparison.Ordinal));
        callbacks.Violations.Should().BeEmpty();
    }
}
