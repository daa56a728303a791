using System.Diagnostics;
using System.Globalization;
using dotnet_etcd;

namespace WatcherSync.Etcd.Bench;

/// <summary>One full list, interleaved with the peer client: wall time, bytes allocated per key, etcd's CPU time.</summary>
internal static class ListBench
{
    public static async Task RunAsync(string endpoint, string prefix, int pageSize, int rounds, int etcdPid)
    {
        await using var client = new EtcdBackendClient(new EtcdClientOptions { Endpoints = [endpoint], ListPageSize = pageSize });
        using var peer = new EtcdClient(endpoint, configureChannelOptions: o => o.MaxReceiveMessageSize = int.MaxValue);
        var ours = new List<double>();
        var theirs = new List<double>();
        var ourCpu = new List<double>();
        var theirCpu = new List<double>();
        var bytesPerKey = new List<double>();
        for (int round = -1; round < rounds; round++)
        {
            // Round -1 warms both up (JIT, connections) and is not counted.
            GC.Collect();
            double cpu0 = Stats.CpuMilliseconds(etcdPid);
            long allocated0 = GC.GetTotalAllocatedBytes(precise: true);
            long t0 = Stopwatch.GetTimestamp();
            KVPairList list = await client.ListAsync(new PrefixListOptions(prefix));
            double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated0;
            double cpu = Stats.CpuMilliseconds(etcdPid) - cpu0;
            int keys = list.KVPairs.Count;
            list = null!;

            GC.Collect();
            double cpu1 = Stats.CpuMilliseconds(etcdPid);
            t0 = Stopwatch.GetTimestamp();
            Etcdserverpb.RangeResponse range = await peer.GetRangeAsync(prefix);
            double peerSeconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            double peerCpu = Stats.CpuMilliseconds(etcdPid) - cpu1;
            int peerKeys = range.Kvs.Count;
            range = null!;
            if (round < 0)
            {
                continue;
            }

            ours.Add(seconds);
            theirs.Add(peerSeconds);
            ourCpu.Add(cpu);
            theirCpu.Add(peerCpu);
            bytesPerKey.Add((double)allocated / keys);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"round {round}: ListAsync {seconds:0.000} s ({keys} keys, {allocated / (double)keys:0} B/key, etcd cpu {cpu:0} ms) | dotnet-etcd GetRangeAsync {peerSeconds:0.000} s ({peerKeys} keys, etcd cpu {peerCpu:0} ms)"));
        }

        Console.WriteLine($"ListAsync page {pageSize}: {Stats.MinMedian(ours)} s; bytes/key {Stats.MinMedian(bytesPerKey, "0")}; etcd cpu ms {Stats.MinMedian(ourCpu, "0")}");
        Console.WriteLine($"dotnet-etcd GetRangeAsync: {Stats.MinMedian(theirs)} s; etcd cpu ms {Stats.MinMedian(theirCpu, "0")}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio of medians ListAsync / GetRangeAsync: {Stats.Median(ours) / Stats.Median(theirs):0.00}"));
    }
}
