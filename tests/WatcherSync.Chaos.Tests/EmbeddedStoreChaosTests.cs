using System.Diagnostics;
using CsCheck;
using FluentAssertions;
using Microsoft.Extensions.Logging.Testing;
using WatcherSync.Chaos.Tests.Harness;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace WatcherSync.Chaos.Tests;

/// <summary>
/// The syncer → DedupeBuffer → sink pipeline over the embedded store, as a CsCheck property: generated sequences of
/// writes, deletes, prefix deletes and compactions, a history so small that watchers overflow, and (in half the cases)
/// injected list and watch failures. After quiescence the sink's picture equals the store, with no impossible
/// transition. A failure is shrunk to a short sequence and printed with a seed: replay it with CsCheck_Seed=<seed>.
/// </summary>
public sealed class EmbeddedStoreChaosTests(ITestOutputHelper output)
{
    // The steps come first: CsCheck orders the cases of a query like this one generator at a time, in the order
    // written, and after a failure it only runs cases it orders before the smallest failure so far. With the settings
    // first, a failure could only shrink through cases with the same (or smaller) history, fault seed and batch
    // sizes, nearly all of them were skipped, and failures stayed hundreds of operations long.
    private static readonly Gen<Case> GenCase =
        from steps in StoreScript.Step.Array[0, 400]
        from history in Gen.Int[16, 64]
        from faults in Gen.Bool
        from faultSeed in Gen.Int[1, 1_000_000]
        from batch in Gen.Int[1, 50]
        from bufferBatch in Gen.Int[1, 20]
        select new Case(history, faults, faultSeed, batch, bufferBatch, steps);

    [Fact]
    public async Task RandomCompactionsAndOverflows_AnySequence_TheSinkConvergesToTheStore()
    {
        var figures = new Figures("embedded store: random compactions, overflows, watch faults");
        long compactions = 0;
        long injected = 0;
        long expiredRelists = 0;
        int cases = 0;
        var clock = Stopwatch.StartNew();
        await GenCase.SampleAsync(
            async c =>
            {
                (long writes, int compacted, int faults, int relists, TimeSpan converge) = await RunCaseAsync(c);
                Interlocked.Add(ref compactions, compacted);
                Interlocked.Add(ref expiredRelists, relists);
                Interlocked.Add(ref injected, faults);
                Interlocked.Increment(ref cases);
                figures.Add(writes, compacted + faults, converge, lost: 0);
            },
            iter: Soak.Pick(3_000, 30_000),
            print: c => c.ToString());

        output.WriteLine($"{cases} cases in {clock.Elapsed.TotalSeconds:0.0} s");
        figures.Report(output, $"{cases} cases; {compactions} compactions + {injected} injected list/watch faults; {expiredRelists} relists on compacted or overflowed watches; history 16-64 events");
    }

    private static async Task<(long Writes, int Compactions, int Faults, int ExpiredRelists, TimeSpan Converge)> RunCaseAsync(Case c)
    {
        await using var store = new InMemoryBackend(new InMemoryBackendOptions { HistoryCapacity = c.History });
        var faulty = new FaultyBackend(store, c.FaultSeed, faultRate: c.Faults ? 0.03 : 0);
        var logs = new FakeLogCollector();
        var options = new WatcherSyncerOptions
        {
            LoggerFactory = FakeLogs.Factory(logs),
            MinResyncInterval = TimeSpan.FromMilliseconds(1),
            ListRetryInterval = TimeSpan.FromMilliseconds(1),
            Backoff = { InitialDelay = TimeSpan.FromMilliseconds(1), MaxDelay = TimeSpan.FromMilliseconds(20) },
            MaxUpdatesPerBatch = c.Batch,
        };
        await using var mirror = new Mirror(faulty, StoreScript.Watched, options, new DedupeBufferOptions { BatchSize = c.BufferBatch });
        mirror.Start();

        (int writes, int compactions) = await StoreScript.RunAsync(store, c.Steps);

        faulty.Faults = false;
        TimeSpan converge = await mirror.ConvergeAsync(store, TimeSpan.FromSeconds(20));

        mirror.Recorder.Violations.Should().BeEmpty();
        mirror.Recorder.AllUpdates.Should().NotContain(u => u.KVPair.Key.DefaultPath.StartsWith("/c/", StringComparison.Ordinal));
        int relists = logs.GetSnapshot().Count(e => e.Id.Id == 1001 && e.Message.Contains("Compacted", StringComparison.Ordinal));
        return (writes, compactions, faulty.Injected, relists, converge);
    }

    private sealed record Case(int History, bool Faults, int FaultSeed, int Batch, int BufferBatch, StoreStep[] Steps)
    {
        public override string ToString() =>
            $"history {History}, faults {(Faults ? FaultSeed : "off")}, batch {Batch}, buffer batch {BufferBatch}: {string.Join(", ", Steps.Select(o => o.ToString()))}";
    }
}
