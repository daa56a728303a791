using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using WatcherSync.InMemory;

namespace WatcherSync.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release -- cpu-ratios</c>: the two ratios of issue 27 measured in CPU time of the process rather
/// than wall-clock time, each side alternating with the other in one process, so that a machine loaded by other work
/// (which stretches wall-clock times by whatever share of the cores it takes) moves both sides alike. Prints the
/// median of each side and their ratio:
/// the DedupeBuffer's keys-known ingest (as <see cref="DedupeBufferBenchmark"/>: 100 batches of 100 updates to 10,000
/// keys the sink holds, 512 times) against <c>TryWrite</c> into an unbounded channel; and a syncer's initial sync of
/// 1,000,000 keys on the in-memory store (start to InSync) against a bare <c>ListAsync</c> of the same keys.
/// </summary>
internal static class CpuRatios
{
    private const int Rounds = 11;

    public static void Run()
    {
        Console.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Trim()}");
        Ingest();
        InitialSync(1_000_000);
        Console.WriteLine($"load average {File.ReadAllText("/proc/loadavg").Trim()}");
    }

    private static void Ingest()
    {
        var bench = new DedupeBufferBenchmark();
        bench.Setup();
        var buffer = new List<double>();
        var channel = new List<double>();
        for (int round = 0; round < Rounds; round++)
        {
            bench.SetupIngest();
            buffer.Add(PerUpdate(bench.IngestBuffer));
            channel.Add(PerUpdate(bench.IngestChannel));
        }

        bench.Dispose();
        double b = Median(buffer), c = Median(channel);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"ingest, keys known: buffer {b:F1} ns CPU/update ({1e3 / b:F1} M/s), channel {c:F1} ns ({1e3 / c:F1} M/s); buffer throughput {c / b:F2}x the channel's"));

        static double PerUpdate(Action invoke)
        {
            const int Invocations = 512;
            TimeSpan start = Cpu();
            for (int i = 0; i < Invocations; i++)
            {
                invoke();
            }

            return (Cpu() - start).TotalNanoseconds / (Invocations * 10_000.0);
        }
    }

    private static void InitialSync(int keys)
    {
        InMemoryBackend store = Fixtures.FilledStore(Fixtures.MakeKeys(keys));
        var list = new PrefixListOptions(Fixtures.Prefix(0));
        var started = new List<ISyncer>();
        var lists = new List<double>();
        var syncs = new List<double>();
        var syncsAndStops = new List<double>();
        for (int round = 0; round < Rounds; round++)
        {
            lists.Add(Measure(() => store.ListAsync(list).GetAwaiter().GetResult()));
            syncs.Add(Measure(() => Fixtures.InitialSync(store, started)));
            Fixtures.StopAll(started);

            // The whole life of the syncer: to InSync, whatever its caches do after it (none of that may be left out
            // of the comparison by moving it past InSync), and the stop.
            syncsAndStops.Add(Measure(() =>
            {
                Fixtures.InitialSync(store, started);
                Fixtures.StopAll(started);
            }));
        }

        store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        double l = Median(lists), s = Median(syncs), all = Median(syncsAndStops);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{keys:N0} keys: ListAsync {l:F0} ms CPU, initial sync to InSync {s:F0} ms CPU; ratio {s / l:F2}; start to InSync and stop {all:F0} ms CPU ({all / l:F2}x the list)"));

        static double Measure(Action run)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            TimeSpan start = Cpu();
            run();
            return (Cpu() - start).TotalMilliseconds;
        }
    }

    private static TimeSpan Cpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
