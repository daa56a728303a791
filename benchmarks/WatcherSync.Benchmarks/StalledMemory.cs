using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;

namespace WatcherSync.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release -- stalled-memory</c>: 100,000 keys × 100 updates each go into a buffer whose sink never
/// reads, and into a plain unbounded channel nobody reads; prints the memory each then holds (GC.GetTotalMemory after a
/// full collection), per key. The keys themselves (strings and key objects) exist before the measurement and are not
/// counted; every update carries a new pair and a new value, as a real watch does.
/// </summary>
internal static class StalledMemory
{
    private const int Keys = 100_000;
    private const int Rounds = 100;
    private const int BatchSize = 100;

    public static void Run()
    {
        string[] paths = [.. Enumerable.Range(0, Keys).Select(i => $"/calico/v1/host/node-{i / 100:D4}/endpoint/workload-{i % 100:D3}")];
        PathKey[] keys = [.. paths.Select(p => new PathKey(p))];
        string?[][] batchKeys = [.. paths.Chunk(BatchSize).Select(c => c.Cast<string?>().ToArray())];

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Keys:N0} keys x {Rounds} updates = {(long)Keys * Rounds:N0} updates, nothing reading"));

        using (var buffer = new DedupeBuffer())
        {
            long before = GC.GetTotalMemory(forceFullCollection: true);
            var clock = Stopwatch.StartNew();
            Feed(keys, (updates, b) => buffer.OnUpdatesKeysKnown(updates, batchKeys[b]));
            clock.Stop();
            long after = GC.GetTotalMemory(forceFullCollection: true);
            Report("DedupeBuffer", after - before, buffer.QueueLength, clock.Elapsed);
        }

        {
            var channel = Channel.CreateUnbounded<Update>();
            long before = GC.GetTotalMemory(forceFullCollection: true);
            var clock = Stopwatch.StartNew();
            Feed(keys, (updates, _) =>
            {
                foreach (Update update in updates)
                {
                    channel.Writer.TryWrite(update);
                }
            });
            clock.Stop();
            long after = GC.GetTotalMemory(forceFullCollection: true);
            Report("Channel<Update>", after - before, channel.Reader.Count, clock.Elapsed);
            GC.KeepAlive(channel);
        }
    }

    private static void Feed(PathKey[] keys, Action<Update[], int> write)
    {
        var updates = new Update[BatchSize];
        for (int round = 0; round < Rounds; round++)
        {
            for (int b = 0; b < Keys / BatchSize; b++)
            {
                for (int j = 0; j < BatchSize; j++)
                {
                    int k = (b * BatchSize) + j;
                    updates[j] = new Update(new KVPair(keys[k], (round * Keys) + k), UpdateType.Updated);
                }

                write(updates, b);
            }
        }
    }

    private static void Report(string what, long bytes, int queued, TimeSpan elapsed) =>
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{what,-16} holds {queued,12:N0} items, {bytes / 1048576.0,9:N1} MiB, {(double)bytes / Keys,10:N1} bytes/key, fed in {elapsed.TotalSeconds:N2} s"));
}
