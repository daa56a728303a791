using CsCheck;
using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// The relay client against a direct syncer on the same store, as a CsCheck property: under generated rounds of
/// writes, deletes and compactions, with injected watch faults (compaction errors among them) in every other round,
/// both reach the store's picture at every checkpoint, neither makes an impossible call, and their status sequences
/// agree. A failure is printed with a seed: replay it with CsCheck_Seed=&lt;seed&gt;.
/// </summary>
public sealed class RelayContractTests(ITestOutputHelper output)
{
    private static readonly Gen<Step> GenStep = Gen.Frequency(
        (65, Gen.Select(Gen.Int[0, 1], Gen.Int[0, 59], (p, k) => new Step(StepKind.Apply, p, k))),
        (30, Gen.Select(Gen.Int[0, 1], Gen.Int[0, 59], (p, k) => new Step(StepKind.Delete, p, k))),
        (5, Gen.Const(new Step(StepKind.Compact, 0, 0))));

    // The rounds first, so that they are what shrinks (see WatcherSync.Chaos.Tests' EmbeddedStoreChaosTests).
    private static readonly Gen<Case> GenCase =
        from rounds in GenStep.Array[0, 150].Array[4]
        from seed in Gen.Int[1, 1_000_000]
        select new Case(rounds, seed);

    [Fact]
    public async Task RelaySyncer_MatchesDirectSyncer_UnderAnyWritesCompactionsAndRelists()
    {
        long feedFaults = 0;
        long directFaults = 0;
        await GenCase.SampleAsync(
            async c =>
            {
                (int feed, int direct) = await RunAsync(c);
                Interlocked.Add(ref feedFaults, feed);
                Interlocked.Add(ref directFaults, direct);
            },
            iter: 20,
            threads: 1,
            print: c => c.ToString());

        output.WriteLine($"faults injected: feed {feedFaults}, direct {directFaults}");
        feedFaults.Should().BePositive("the feed's syncer must have been made to recover");
        directFaults.Should().BePositive("the direct syncer must have been made to recover");
    }

    private static async Task<(int FeedFaults, int DirectFaults)> RunAsync(Case c)
    {
        await using var store = new InMemoryBackend();

        // Relists come from injected watch faults (compaction errors among them) on both sides, each with its own seed.
        var feedBackend = new FaultyBackend(store, c.Seed, faultRate: 0.2) { Faults = false };
        var directBackend = new FaultyBackend(store, c.Seed + 1, faultRate: 0.2) { Faults = false };
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

        for (int round = 0; round < c.Rounds.Length; round++)
        {
            bool faults = round % 2 == 1;
            feedBackend.Faults = faults;
            directBackend.Faults = faults;
            for (int i = 0; i < c.Rounds[round].Length; i++)
            {
                Step step = c.Rounds[round][i];
                var key = new PathKey(Relays.Key(step.Prefix, step.Key));
                switch (step.Kind)
                {
                    case StepKind.Apply:
                        await store.ApplyAsync(new KVPair(key, $"v{round}-{i}"));
                        break;
                    case StepKind.Delete:
                        try
                        {
                            await store.DeleteAsync(key);
                        }
                        catch (ResourceNotFoundException)
                        {
                            // Not there.
                        }

                        break;
                    case StepKind.Compact when store.Revision > store.CompactRevision:
                        store.Compact(store.Revision);
                        break;
                }
            }

            // Faults stay on while the syncers catch up, so that they hit the events in flight.
            await Relays.ConvergedAsync(direct, store, $"direct syncer after round {round}");
            await Relays.ConvergedAsync(relayed, store, $"relay client after round {round}");
            feedBackend.Faults = false;
            directBackend.Faults = false;
        }

        direct.Violations.Should().BeEmpty();
        relayed.Violations.Should().BeEmpty();
        Relays.AsText(relayed.Picture).Should().Equal(Relays.AsText(direct.Picture));

        // Both tell the same story: they start resyncing, every relist goes ResyncInProgress -> InSync, and neither
        // goes back to WaitForDatastore while the store is reachable.
        relayed.Statuses[0].Should().Be(SyncStatus.ResyncInProgress);
        relayed.Statuses.Should().NotContain(SyncStatus.WaitForDatastore);
        direct.Statuses.Should().NotContain(SyncStatus.WaitForDatastore);
        relayed.Statuses.Last().Should().Be(SyncStatus.InSync);
        relaySyncer.Resyncs.Should().Be(1, "the connection never broke, so the client took one snapshot");
        return (feedBackend.Injected, directBackend.Injected);
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

    private enum StepKind
    {
        Apply,
        Delete,
        Compact,
    }

    private sealed record Step(StepKind Kind, int Prefix, int Key)
    {
        public override string ToString() => Kind == StepKind.Compact ? "compact" : $"{Kind} {Relays.Key(Prefix, Key)}";
    }

    private sealed record Case(Step[][] Rounds, int Seed)
    {
        public override string ToString() =>
            $"seed {Seed}: {string.Join(" | ", Rounds.Select((r, i) => $"round {i}{(i % 2 == 1 ? " (faults)" : string.Empty)}: {string.Join(", ", r.Select(s => s.ToString()))}"))}";
    }
}
