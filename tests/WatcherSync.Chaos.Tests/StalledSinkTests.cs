using System.Diagnostics;
using FluentAssertions;
using WatcherSync.Chaos.Tests.Harness;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace WatcherSync.Chaos.Tests;

/// <summary>A sink that stalls for 10 s during a burst of updates: the dedupe buffer's memory follows the keys, not the updates.</summary>
public sealed class StalledSinkTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SinkStallsTenSecondsDuringBurst_QueueBoundedByKeys_SinkConvergesAfterwards()
    {
        int seed = Soak.NewSeed();
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        int keys = Soak.Pick(10_000, 50_000);
        int updates = Soak.Pick(1_000_000, 5_000_000);
        TimeSpan stall = TimeSpan.FromSeconds(10);
        string[] prefixes = ["/burst/"];
        await using var store = new InMemoryBackend(new InMemoryBackendOptions { HistoryCapacity = 65_536 });
        PathKey[] keyObjects = [.. Enumerable.Range(0, keys).Select(i => new PathKey($"/burst/k{i:D6}"))];
        foreach (PathKey key in keyObjects)
        {
            await store.ApplyAsync(new KVPair(key, "initial"));
        }

        using var gate = new ManualResetEventSlim(initialState: true);
        await using var mirror = new Mirror(store, prefixes);
        mirror.Recorder.UpdatesGate = gate;
        mirror.Start();
        await mirror.ConvergeAsync(store, TimeSpan.FromSeconds(60), output.WriteLine);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long allocatedBefore = GC.GetTotalAllocatedBytes();
        int[] collectionsBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
        int maxQueue = 0;
        long maxHeap = 0;
        bool stalled = true;
        using var sampling = new CancellationTokenSource();
        Task sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                maxQueue = Math.Max(maxQueue, mirror.Buffer.QueueLength);
                if (Volatile.Read(ref stalled))
                {
                    // Only while the sink is stalled: afterwards the test's recorder keeps every call it gets.
                    maxHeap = Math.Max(maxHeap, GC.GetTotalMemory(forceFullCollection: false));
                }

                try
                {
                    await Task.Delay(5, sampling.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        gate.Reset();
        int entered = mirror.Recorder.UpdatesEntered;
        int statusesBefore = mirror.StatusesSent;
        var burstClock = Stopwatch.StartNew();
        Task burst = Task.Run(async () =>
        {
            for (int i = 0; i < updates; i++)
            {
                await store.ApplyAsync(new KVPair(keyObjects[random.Next(keys)], $"u{i}"));
                if (i % 256 == 0)
                {
                    await Task.Yield();
                }
            }

            burstClock.Stop();
        });

        await Eventually.True(() => mirror.Recorder.UpdatesEntered > entered, "the sink is called during the burst, and stalls");

        // The fault itself: the sink stays blocked for the stall, and at least until the whole burst has gone in, so the
        // coalescing checked below does not depend on how fast this machine writes.
        await Task.WhenAll(Task.Delay(stall), burst);
        int queueAtRelease = mirror.Buffer.QueueLength;
        Volatile.Write(ref stalled, false);
        gate.Set();
        await burst;
        TimeSpan converge = await mirror.ConvergeAsync(store, TimeSpan.FromSeconds(90), output.WriteLine);
        await sampling.CancelAsync();
        await sampler;
        int statuses = mirror.StatusesSent - statusesBefore;

        long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        long allocated = GC.GetTotalAllocatedBytes() - allocatedBefore;
        string gc = $"heap before {heapBefore / 1048576.0:0.0} MiB, peak while stalled {maxHeap / 1048576.0:0.0} MiB, after {heapAfter / 1048576.0:0.0} MiB (the recorder keeps every call); "
            + $"allocated {allocated / 1048576.0:0} MiB; collections gen0/1/2 {GC.CollectionCount(0) - collectionsBefore[0]}/{GC.CollectionCount(1) - collectionsBefore[1]}/{GC.CollectionCount(2) - collectionsBefore[2]}";
        output.WriteLine($"{updates} updates to {keys} keys in {burstClock.Elapsed.TotalSeconds:0.0} s; sink stalled {stall.TotalSeconds} s; queue max {maxQueue}, at release {queueAtRelease}; coalesced {mirror.Buffer.UpdatesCoalesced}; statuses sent {statuses}");
        output.WriteLine(gc);

        // One item per key however many updates arrive, plus statuses. A watch that overflows the store's history
        // during the burst relists, and each relist sends statuses (ResyncInProgress at once, InSync after the list).
        // A status replaces one at the tail of the queue in place, but one with a key appended after it stays, so
        // the queue may hold up to one item per status sent since the stall began on top of the keys.
        maxQueue.Should().BeLessThanOrEqualTo(keys + statuses, "the queue holds one item per key (and the statuses sent) however many updates arrive");
        statuses.Should().BeLessThan(updates / 1000, "statuses come from relists, a handful per history overflow, not from updates");
        (maxHeap - heapBefore).Should().BeLessThan(512L * 1024 * 1024, "while the sink stalls, memory follows the keys, not the updates");
        mirror.Recorder.Violations.Should().BeEmpty($"seed {seed}");
        mirror.Buffer.UpdatesCoalesced.Should().BeGreaterThan(updates / 4, "updates to the same key were coalesced while the sink stalled");

        var figures = new Figures("sink stalled 10 s during a 1M-update burst");
        figures.Add(updates, 1, converge, lost: 0);
        figures.Report(output, $"{keys} keys; queue max {maxQueue}; {gc}");
    }
}
