using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using WatcherSync.Etcd.Api;

namespace WatcherSync.Etcd.Bench;

/// <summary>
/// A writer doing transactions of BATCH puts at a fixed rate; a syncer and <c>etcdctl watch</c> watch the same prefix.
/// Reports events delivered, put-to-callback latency, and each reader's lag after the writer's last acknowledged put.
/// </summary>
internal static class WatchBench
{
    public static async Task RunAsync(string endpoint, string prefix, KV.KVClient kv, int seconds, int batch, int rate)
    {
        await using var client = new EtcdBackendClient(new EtcdClientOptions { Endpoints = [endpoint] });
        var sink = new Sink();
        await using ISyncer syncer = client.CreateSyncer([new ResourceType(new PrefixListOptions(prefix))], sink);
        syncer.Start();
        await sink.InSync.Task;
        sink.Reset();

        using var ctl = Process.Start(new ProcessStartInfo("etcdctl", ["--endpoints", endpoint, "watch", "--prefix", prefix]) { RedirectStandardOutput = true, Environment = { ["ETCDCTL_API"] = "3" } })!;
        long ctlEvents = 0;
        long ctlLast = 0;
        Task reading = Task.Run(async () =>
        {
            while (await ctl.StandardOutput.ReadLineAsync() is { } line)
            {
                if (line == "PUT")
                {
                    Interlocked.Increment(ref ctlEvents);
                    Interlocked.Exchange(ref ctlLast, Stopwatch.GetTimestamp());
                }
            }
        });

        // Wait until etcdctl's watch is up: it sees a marker key.
        await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(prefix + "marker"), Value = ByteString.CopyFromUtf8("m") });
        var ready = Stopwatch.StartNew();
        while (Interlocked.Read(ref ctlEvents) == 0)
        {
            if (ready.Elapsed > TimeSpan.FromSeconds(10))
            {
                await kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8(prefix + "marker"), Value = ByteString.CopyFromUtf8("m") });
                ready.Restart();
            }

            await Task.Delay(10);
        }

        while (sink.Count < 1)
        {
            await Task.Delay(10);
        }

        Interlocked.Exchange(ref ctlEvents, 0);
        sink.Reset();
        var clock = Stopwatch.StartNew();
        long written = 0;
        TimeSpan interval = TimeSpan.FromSeconds(1.0 / rate);
        long next = Stopwatch.GetTimestamp();
        long lastAck = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            long stamp = Stopwatch.GetTimestamp();
            var txn = new TxnRequest();
            txn.Success.Add(Enumerable.Range(0, batch).Select(i => new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8($"{prefix}w{i:D4}"), Value = ByteString.CopyFrom(BitConverter.GetBytes(stamp)) } }));
            await kv.TxnAsync(txn);
            lastAck = Stopwatch.GetTimestamp();
            written += batch;
            next += (long)(interval.TotalSeconds * Stopwatch.Frequency);
            TimeSpan wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
        }

        double writeSeconds = clock.Elapsed.TotalSeconds;
        var drain = Stopwatch.StartNew();
        while ((sink.Count < written || Interlocked.Read(ref ctlEvents) < written) && drain.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(1);
        }

        ctl.Kill();
        await reading;
        double ourLag = Stopwatch.GetElapsedTime(lastAck, sink.LastDelivered).TotalMilliseconds;
        double ctlLag = Stopwatch.GetElapsedTime(lastAck, Interlocked.Read(ref ctlLast)).TotalMilliseconds;
        double[] latencies = sink.LatenciesMs();
        Array.Sort(latencies);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rate {rate} txn/s x {batch}: written {written} in {writeSeconds:0.0} s; syncer delivered {sink.Count}, etcdctl {Interlocked.Read(ref ctlEvents)}; p50 {Stats.Percentile(latencies, 0.5):0.0} ms p99 {Stats.Percentile(latencies, 0.99):0.0} ms put->callback; lag after the last put: syncer {ourLag:0.0} ms, etcdctl {ctlLag:0.0} ms"));
    }
}
