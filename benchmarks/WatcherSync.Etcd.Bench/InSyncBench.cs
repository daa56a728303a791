using System.Diagnostics;
using System.Globalization;

namespace WatcherSync.Etcd.Bench;

/// <summary>Time from syncer start to InSync over the same keys as one resource type and as many, and the connections held.</summary>
internal static class InSyncBench
{
    public static async Task RunAsync(string endpoint, string prefix, int types, int rounds)
    {
        int port = new Uri(endpoint).Port;
        var one = new List<double>();
        var many = new List<double>();
        for (int round = -1; round < rounds; round++)
        {
            double single = await OnceAsync(endpoint, [prefix], port, report: false);
            double multiple = await OnceAsync(endpoint, [.. Enumerable.Range(0, types).Select(t => $"{prefix}t{t:D2}/")], port, report: round == rounds - 1);
            if (round >= 0)
            {
                one.Add(single);
                many.Add(multiple);
            }
        }

        Console.WriteLine($"InSync, 1 type: {Stats.MinMedian(one)} s");
        Console.WriteLine($"InSync, {types} types: {Stats.MinMedian(many)} s");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio of medians {types} types / 1 type: {Stats.Median(many) / Stats.Median(one):0.00}"));
    }

    private static async Task<double> OnceAsync(string endpoint, string[] prefixes, int port, bool report)
    {
        long t0 = Stopwatch.GetTimestamp();
        await using var client = new EtcdBackendClient(new EtcdClientOptions { Endpoints = [endpoint] });
        var sink = new Sink();
        await using ISyncer syncer = client.CreateSyncer(prefixes.Select(p => new ResourceType(new PrefixListOptions(p))), sink);
        syncer.Start();
        await sink.InSync.Task;
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        if (report)
        {
            Console.WriteLine($"{prefixes.Length} types in sync with {sink.Count} keys over {Stats.ConnectionsTo(port)} TCP connection(s) to etcd");
        }

        return seconds;
    }
}
