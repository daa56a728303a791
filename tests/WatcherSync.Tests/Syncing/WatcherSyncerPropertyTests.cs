using CsCheck;
using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace WatcherSync.Tests.Syncing;

/// <summary>
/// The syncer straight into its callbacks, as a CsCheck property: generated sequences of writes, deletes, prefix
/// deletes and compactions against the in-memory store with a small history (so watches overflow it), with or
/// without injected list and watch faults. Once the steps are done and the syncer has caught up (faults still on),
/// the callbacks' picture equals the store, with no impossible transition. A failure is shrunk to a short sequence
/// and printed with a seed: replay it with CsCheck_Seed=&lt;seed&gt;. (WatcherSync.Chaos.Tests runs the same steps
/// through a DedupeBuffer.)
/// </summary>
public sealed class WatcherSyncerPropertyTests(ITestOutputHelper output)
{
    // The steps first, so that they are what shrinks (see EmbeddedStoreChaosTests).
    private static readonly Gen<Case> GenCase =
        from steps in StoreScript.Step.Array[0, 300]
        from history in Gen.Int[16, 128]
        from faults in Gen.Bool
        from faultSeed in Gen.Int[1, 1_000_000]
        from batch in Gen.Int[1, 50]
        select new Case(history, faults, faultSeed, batch, steps);

    [Fact]
    public async Task AnySequenceOfWritesCompactionsAndFaults_ThePictureConvergesToTheStore()
    {
        long injected = 0;
        int faultCases = 0;
        await GenCase.SampleAsync(
            async c =>
            {
                int faults = await RunAsync(c);
                Interlocked.Add(ref injected, faults);
                if (c.Faults)
                {
                    Interlocked.Increment(ref faultCases);
                }
            },
            iter: 2_000,
            print: c => c.ToString());

        output.WriteLine($"{injected} faults injected over {faultCases} cases with faults on");
        injected.Should().BeGreaterThan(faultCases, "the syncer met faults while it was following the writes");
    }

    private static async Task<int> RunAsync(Case c)
    {
        await using var store = new InMemoryBackend(new InMemoryBackendOptions { HistoryCapacity = c.History });
        var faulty = new FaultyBackend(store, c.FaultSeed, faultRate: 0.1) { Faults = c.Faults };
        var callbacks = new RecordingCallbacks();
        var options = new WatcherSyncerOptions
        {
            MinResyncInterval = TimeSpan.FromMilliseconds(1),
            ListRetryInterval = TimeSpan.FromMilliseconds(1),
            Backoff = { InitialDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(20) },
            MaxUpdatesPerBatch = c.Batch,
        };
        await using var syncer = new WatcherSyncer(faulty, StoreScript.Watched.Select(p => new ResourceType(new PrefixListOptions(p))), callbacks, options);
        syncer.Start();

        await StoreScript.RunAsync(store, c.Steps);

        // Faults stay on while the syncer catches up: the writes are synchronous, so it reads most of their events,
        // and meets most faults, after the steps. Once it has caught up, nothing more is written and nothing fails.
        Dictionary<string, object?> expected = await StoreScript.PictureAsync(store);
        try
        {
            await Eventually.True(
                () => callbacks.LastStatus == SyncStatus.InSync && PictureEquals(callbacks.Picture, expected),
                $"the picture converges to the store ({expected.Count} keys)");
        }
        catch (TimeoutException ex)
        {
            Dictionary<string, object?> picture = callbacks.Picture;
            throw new TimeoutException(
                $"{ex.Message} Status {callbacks.LastStatus}; missing: {string.Join(" ", expected.Keys.Where(k => !picture.ContainsKey(k)))}; " +
                $"extra: {string.Join(" ", picture.Keys.Where(k => !expected.ContainsKey(k)))}; " +
                $"stale: {string.Join(" ", expected.Where(p => picture.TryGetValue(p.Key, out object? v) && !Equals(v, p.Value)).Select(p => p.Key))}",
                ex);
        }

        faulty.Faults = false;
        callbacks.Violations.Should().BeEmpty();
        callbacks.Calls.First().Should().Be(SyncStatus.ResyncInProgress);
        callbacks.AllUpdates.Should().NotContain(u => u.KVPair.Key.DefaultPath.StartsWith("/c/", StringComparison.Ordinal));
        return faulty.Injected;
    }

    private static bool PictureEquals(Dictionary<string, object?> picture, Dictionary<string, object?> expected) =>
        picture.Count == expected.Count && expected.All(p => picture.TryGetValue(p.Key, out object? v) && Equals(v, p.Value));

    private sealed record Case(int History, bool Faults, int FaultSeed, int Batch, StoreStep[] Steps)
    {
        public override string ToString() =>
            $"history {History}, faults {(Faults ? FaultSeed : "off")}, batch {Batch}: {string.Join(", ", Steps.Select(s => s.ToString()))}";
    }
}
