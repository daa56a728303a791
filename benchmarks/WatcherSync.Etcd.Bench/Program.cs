using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using WatcherSync;
using WatcherSync.Etcd;
using WatcherSync.Etcd.Gateway;

// Usage: load ENDPOINT PREFIX COUNT SIZE | insync ENDPOINT PREFIX | list ENDPOINT PREFIX PAGE_SIZE | watch ENDPOINT PREFIX SECONDS BATCH
string mode = args[0];
string endpoint = args[1];
string prefix = args[2];
using var http = new HttpClient();

switch (mode)
{
    case "load":
        int count = int.Parse(args[3], CultureInfo.InvariantCulture);
        byte[] value = Encoding.UTF8.GetBytes(new string('v', int.Parse(args[4], CultureInfo.InvariantCulture)));
        foreach (int[] chunk in Enumerable.Range(0, count).Chunk(100))
        {
            var txn = new TxnRequest { Success = [.. chunk.Select(i => new RequestOp { RequestPut = new PutRequest { Key = Encoding.UTF8.GetBytes($"{prefix}{i:D8}"), Value = value } })] };
            (await http.PostAsJsonAsync($"{endpoint}/v3/kv/txn", txn, EtcdJsonContext.Default.TxnRequest)).EnsureSuccessStatusCode();
        }

        Console.WriteLine($"loaded {count} keys");
        break;

    case "insync":
    {
        var clock = Stopwatch.StartNew();
        await using var client = new EtcdBackendClient(new EtcdClientOptions { Endpoints = [endpoint] });
        var sink = new Sink();
        await using ISyncer syncer = client.CreateSyncer([new ResourceType(new PrefixListOptions(prefix))], sink);
        syncer.Start();
        await sink.InSync.Task;
        Console.WriteLine(FormattableString.Invariant($"insync_seconds={clock.Elapsed.TotalSeconds:0.000} keys={sink.Count}"));
        break;
    }

    case "list":
    {
        int pageSize = int.Parse(args[3], CultureInfo.InvariantCulture);
        await using var client = new EtcdBackendClient(new EtcdClientOptions { Endpoints = [endpoint], ListPageSize = pageSize });
        for (int round = 0; round < 3; round++)
        {
            var clock = Stopwatch.StartNew();
            KVPairList list = await client.ListAsync(new PrefixListOptions(prefix));
            Console.WriteLine(FormattableString.Invariant($"list page_size={pageSize} round={round} seconds={clock.Elapsed.TotalSeconds:0.000} keys={list.KVPairs.Count}"));
        }

        break;
    }

    case "watch":
    {
        int seconds = int.Parse(args[3], CultureInfo.InvariantCulture);
        int batch = int.Parse(args[4], CultureInfo.InvariantCulture);
        await using var client = new EtcdBackendClient(new EtcdClientOptions { Endpoints = [endpoint] });
        var sink = new Sink();
        await using ISyncer syncer = client.CreateSyncer([new ResourceType(new PrefixListOptions(prefix))], sink);
        syncer.Start();
        await sink.InSync.Task;
        sink.Reset();
        var clock = Stopwatch.StartNew();
        long written = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            long stamp = Stopwatch.GetTimestamp();
            var txn = new TxnRequest { Success = [.. Enumerable.Range(0, batch).Select(i => new RequestOp { RequestPut = new PutRequest { Key = Encoding.UTF8.GetBytes($"{prefix}w{i:D4}"), Value = BitConverter.GetBytes(stamp) } })] };
            (await http.PostAsJsonAsync($"{endpoint}/v3/kv/txn", txn, EtcdJsonContext.Default.TxnRequest)).EnsureSuccessStatusCode();
            written += batch;
        }

        double writeSeconds = clock.Elapsed.TotalSeconds;
        var drain = Stopwatch.StartNew();
        while (sink.Count < written && drain.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(10);
        }

        double total = clock.Elapsed.TotalSeconds;
        double[] latencies = sink.LatenciesMs();
        Array.Sort(latencies);
        double p50 = latencies.Length == 0 ? double.NaN : latencies[latencies.Length / 2];
        double p99 = latencies.Length == 0 ? double.NaN : latencies[(int)(latencies.Length * 0.99)];
        Console.WriteLine(FormattableString.Invariant($"written={written} delivered={sink.Count} write_seconds={writeSeconds:0.00} delivered_per_second={sink.Count / total:0} p50_put_to_callback_ms={p50:0.0} p99_put_to_callback_ms={p99:0.0}"));
        break;
    }
}

internal sealed class Sink : ISyncerCallbacks
{
    private readonly List<double> _latencies = [];
    private long _count;

    public TaskCompletionSource InSync { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Count => Interlocked.Read(ref _count);

    public void OnStatusUpdated(SyncStatus status)
    {
        if (status == SyncStatus.InSync)
        {
            InSync.TrySetResult();
        }
    }

    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        long now = Stopwatch.GetTimestamp();
        foreach (Update update in updates)
        {
            if (update.KVPair.Value is byte[] { Length: 8 } stamp)
            {
                _latencies.Add(Stopwatch.GetElapsedTime(BitConverter.ToInt64(stamp), now).TotalMilliseconds);
            }
        }

        Interlocked.Add(ref _count, updates.Count);
    }

    public void Reset() => Interlocked.Exchange(ref _count, 0);

    public double[] LatenciesMs() => [.. _latencies];
}
