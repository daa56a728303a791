using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;

namespace WatcherSync.Etcd.Bench;

/// <summary>
/// COUNT quiet watches on one client: time until etcd has created them all, managed memory and working set they hold,
/// and how many watches broke (stream declared dead, reconnects, compaction) over SECONDS with etcd's progress
/// interval at INTERVAL seconds (etcd must run with --experimental-watch-progress-notify-interval INTERVALs).
/// </summary>
internal static class ManyWatchesBench
{
    public static async Task RunAsync(string endpoint, string prefix, int count, int seconds, int interval)
    {
        long reconnects = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "watchersync.etcd.watch.reconnects")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref reconnects, value));
        listener.Start();

        var options = new EtcdClientOptions
        {
            Endpoints = [endpoint],
            ProgressNotifyInterval = TimeSpan.FromSeconds(interval),
            WatchdogSlack = TimeSpan.FromSeconds(interval),
        };
        await using var client = new EtcdBackendClient(options);
        await client.ApplyAsync(new KVPair(new PathKey($"{prefix}seed"), "s"));
        string from = (await client.CurrentRevisionAsync()).ToString(CultureInfo.InvariantCulture);
        long managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        long workingBefore = Environment.WorkingSet;

        var clock = Stopwatch.StartNew();
        IWatch[] watches = await Task.WhenAll(Enumerable.Range(0, count).Select(i => client.WatchAsync(new PrefixListOptions($"{prefix}w{i:D6}/"), new WatchOptions(from))));
        TimeSpan created = clock.Elapsed;
        long managed = GC.GetTotalMemory(forceFullCollection: true) - managedBefore;
        long working = Environment.WorkingSet - workingBefore;

        // History before now goes: a watch that reconnected from its start revision would fail for good.
        await client.ApplyAsync(new KVPair(new PathKey($"{prefix}bump"), "b"));
        await client.CompactAsync(null);
        var quiet = Stopwatch.StartNew();
        while (quiet.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            await Task.Delay(100);
        }

        int errors = watches.Count(w => w.Events.TryPeek(out WatchEvent? e) && e.Type == WatchEventType.Error);
        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{count} watches on one client: created in {created.TotalSeconds:0.00} s; managed memory {managed / 1024.0 / 1024.0:0.0} MB ({managed / count:0} B per watch), working set +{working / 1024.0 / 1024.0:0.0} MB; over {seconds} s ({seconds / interval} progress intervals) and a compaction: {Interlocked.Read(ref reconnects)} reconnects, {errors} watches ended"));
        foreach (IWatch watch in watches)
        {
            await watch.DisposeAsync();
        }
    }
}
