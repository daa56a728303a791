using System.Diagnostics;
using System.Globalization;
using WatcherSync.InMemory;

namespace WatcherSync.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release -- syncer-memory</c>: measured runs for what BenchmarkDotNet does not give.
/// <list type="bullet">
/// <item>Initial sync of 100,000 and 1,000,000 keys from the in-memory backend: time from <c>Start</c> to InSync, the
/// memory the syncer holds once in sync (<c>GC.GetTotalMemory(true)</c> after minus before; the store, its keys and
/// revision strings exist before and are not counted) and what it allocated on the way, per key.</item>
/// <item>Replay: the syncer lists at a past revision and its watch then reads 1,000,000 updates already in the
/// history, with no writer running: backend watch to <c>OnUpdates</c> alone, for 1 and 8 resource types.</item>
/// </list>
/// </summary>
internal static class SyncerMemory
{
    private const int Runs = 3;
    private const int ReplayKeys = 1_000_000;
    private const int ReplayUpdates = 1_000_000;

    public static void Run()
    {
        foreach (int keys in (int[])[100_000, 1_000_000])
        {
            InitialSync(keys);
        }

        foreach (int types in (int[])[1, 8])
        {
            Replay(types);
        }
    }

    private static void InitialSync(int keyCount)
    {
        PathKey[] keys = Fixtures.MakeKeys(keyCount);
        InMemoryBackend store = Fixtures.FilledStore(keys);
        for (int run = 1; run <= Runs; run++)
        {
            var sink = new CountingSink();
            long before = GC.GetTotalMemory(forceFullCollection: true);
            long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
            var clock = Stopwatch.StartNew();
            ISyncer syncer = store.CreateSyncer(Fixtures.ResourceTypes(1), sink);
            syncer.Start();
            sink.WaitForStatus(SyncStatus.InSync);
            clock.Stop();
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
            long held = GC.GetTotalMemory(forceFullCollection: true) - before;
            Print($"initial sync {keyCount,9:N0} keys, run {run}: InSync in {clock.Elapsed.TotalSeconds:N3} s ({keyCount / clock.Elapsed.TotalSeconds,12:N0} keys/s), holds {held / (double)keyCount,6:N1} B/key, allocated {allocated / (double)keyCount,6:N1} B/key, {sink.Updates:N0} updates");
            syncer.StopAsync().GetAwaiter().GetResult();
            GC.KeepAlive(syncer);
        }
    }

    private static void Replay(int types)
    {
        PathKey[] keys = Fixtures.MakeKeys(ReplayKeys, types);

        // The history must still hold the initial writes' successors: room for the fill and the updates.
        InMemoryBackend store = Fixtures.FilledStore(keys, historyCapacity: 1 << 22);
        string pinned = store.Revision.ToString(CultureInfo.InvariantCulture);
        int next = 0;
        for (int run = 1; run <= Runs; run++)
        {
            Fixtures.Write(store, keys, ref next, ReplayUpdates);
            var sink = new CountingSink();
            ISyncer syncer = new PinnedListClient(store, pinned).CreateSyncer(Fixtures.ResourceTypes(types), sink);
            syncer.Start();
            sink.WaitForStatus(SyncStatus.InSync);

            // The replay may have begun a moment before InSync reached this thread: the figure is a little pessimistic.
            var clock = Stopwatch.StartNew();
            sink.WaitForUpdates(ReplayKeys + ((long)ReplayUpdates * run));
            clock.Stop();
            double seconds = clock.Elapsed.TotalSeconds;
            Print($"replay {(long)ReplayUpdates * run,9:N0} updates, {types} type(s), {ReplayKeys:N0} keys, run {run}: {seconds:N3} s, {ReplayUpdates * run / seconds,12:N0} updates/s");
            syncer.StopAsync().GetAwaiter().GetResult();
        }
    }

    private static void Print(string line) => Console.WriteLine(line);
}
