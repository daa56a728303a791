using System.Collections.Concurrent;
using System.Diagnostics;
using FluentAssertions;
using Microsoft.Extensions.Logging.Testing;
using WatcherSync.Chaos.Tests.Harness;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace WatcherSync.Chaos.Tests;

/// <summary>
/// The embedded store under the same harness, for thousands of random seeds: writes, deletes, prefix deletes, random
/// compactions, a history so small that watchers overflow, and (on half the seeds) injected list and watch failures.
/// </summary>
public sealed class EmbeddedStoreChaosTests(ITestOutputHelper output)
{
    private static readonly string[] Prefixes = ["/a/", "/b/"];

    [Fact]
    public async Task RandomCompactionsAndOverflows_ThousandsOfSeeds_EverySinkConverges()
    {
        int first = Soak.FixedSeed ?? Random.Shared.Next(1, int.MaxValue / 2);
        int count = Soak.FixedSeed is null ? Soak.Pick(10_000, 100_000) : 1;
        output.WriteLine($"seeds {first}..{first + count - 1} (replay one with WATCHERSYNC_SEED=<seed>)");
        var figures = new Figures("embedded store: random compactions, overflows, watch faults");
        var failures = new ConcurrentQueue<string>();
        long compactions = 0;
        long injected = 0;
        long expiredRelists = 0;
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(
            Enumerable.Range(first, count),
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            async (seed, _) =>
            {
                try
                {
                    (long writes, int compacted, int faults, int relists, TimeSpan converge) = await RunSeedAsync(seed);
                    Interlocked.Add(ref compactions, compacted);
                    Interlocked.Add(ref expiredRelists, relists);
                    Interlocked.Add(ref injected, faults);
                    figures.Add(writes, compacted + faults, converge, lost: 0);
                    output.WriteLine($"seed {seed}: {writes} writes, {compacted} compactions, {faults} injected faults, {relists} relists on expired revisions, converged in {converge.TotalMilliseconds:0} ms");
                }
#pragma warning disable CA1031 // Every failing seed is collected and reported with its seed.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    failures.Enqueue($"seed {seed}: {ex.Message}");
                }
            });

        output.WriteLine($"{count} seeds in {clock.Elapsed.TotalSeconds:0.0} s");
        foreach (string failure in failures)
        {
            output.WriteLine("FAILED " + failure);
        }

        failures.Should().BeEmpty();
        figures.Report(output, $"{count} seeds; {compactions} compactions + {injected} injected list/watch faults; {expiredRelists} relists on compacted or overflowed watches; history 16-64 events");
    }

    private static async Task<(long Writes, int Compactions, int Faults, int ExpiredRelists, TimeSpan Converge)> RunSeedAsync(int seed)
    {
        var random = new Random(seed);
        await using var store = new InMemoryBackend(new InMemoryBackendOptions { HistoryCapacity = 16 + random.Next(49) });
        var faulty = new FaultyBackend(store, seed, faultRate: random.Next(2) == 0 ? 0 : 0.03);
        var logs = new FakeLogCollector();
        var options = new WatcherSyncerOptions
        {
            LoggerFactory = FakeLogs.Factory(logs),
            MinResyncInterval = TimeSpan.FromMilliseconds(1),
            ListRetryInterval = TimeSpan.FromMilliseconds(1),
            MaxUpdatesPerBatch = 1 + random.Next(50),
        };
        await using var mirror = new Mirror(faulty, Prefixes, options, new DedupeBufferOptions { BatchSize = 1 + random.Next(20) });
        mirror.Start();

        int operations = 100 + random.Next(300);
        int writes = 0;
        int compactions = 0;
        for (int i = 0; i < operations; i++)
        {
            string key = $"{"/a/,/b/,/c/".Split(',')[random.Next(3)]}{random.Next(20)}";
            int op = random.Next(100);
            try
            {
                if (op < 60)
                {
                    await store.ApplyAsync(new KVPair(new PathKey(key), $"v{i}"));
                    writes++;
                }
                else if (op < 85)
                {
                    await store.DeleteAsync(new PathKey(key));
                    writes++;
                }
                else if (op < 88)
                {
                    await store.DeletePrefixAsync(key[..3]);
                    writes++;
                }
                else if (op < 94)
                {
                    store.Compact(store.Revision);
                    compactions++;
                }
                else
                {
                    // Let the syncer run for a moment between bursts.
                    await Task.Yield();
                }
            }
            catch (ResourceNotFoundException)
            {
            }
            catch (RevisionExpiredException)
            {
                // Compacted twice at the same revision.
            }
        }

        faulty.Faults = false;
        var lines = new List<string>();
        TimeSpan converge;
        try
        {
            converge = await mirror.ConvergeAsync(store, TimeSpan.FromSeconds(20), lines.Add);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}{Environment.NewLine}{string.Join(Environment.NewLine, lines)}", ex);
        }

        mirror.Recorder.Violations.Should().BeEmpty($"seed {seed}");
        mirror.Recorder.AllUpdates.Should().NotContain(u => u.KVPair.Key.DefaultPath.StartsWith("/c/", StringComparison.Ordinal));
        int relists = logs.GetSnapshot().Count(e => e.Id.Id == 1001 && e.Message.Contains("Compacted", StringComparison.Ordinal));
        return (writes, compactions, faulty.Injected, relists, converge);
    }
}
