using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using WatcherSync;
using WatcherSync.Etcd;
using WatcherSync.Relay.Server;

/// <summary>
/// Compression side by side: the same relay serves CLIENTS relay clients twice, first asking for plain bytes, then
/// for compressed ones; for each run, the bytes the relay sent, the relay's CPU seconds and the clients' CPU seconds
/// until every client is InSync. The values are the benchmark's own ('v' repeated: the best case for any codec),
/// JSON-like resources (a realistic case), or random bytes (the worst).
/// </summary>
internal static class CompressBench
{
    public static async Task<int> RunAsync(int clients, int keys, int valueBytes, string values)
    {
        await using var etcd = await EtcdServer.StartAsync();
        await using var client = new EtcdBackendClient(new EtcdClientOptions { Endpoints = [etcd.Endpoint] });
        Func<int, byte[]> value = values switch
        {
            "json" => i => Json(i, valueBytes),
            "random" => _ => Random(valueBytes),
            _ => _ => Encoding.UTF8.GetBytes(new string('v', valueBytes)),
        };
        await Parallel.ForEachAsync(Enumerable.Range(0, keys), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
            await client.ApplyAsync(new KVPair(new PathKey($"{Bench.Prefix}k{i:D7}"), value(i)), ct));
        Console.WriteLine($"loaded {keys} keys x {valueBytes} B ({values} values, e.g. {Encoding.UTF8.GetString(value(1)[..Math.Min(60, valueBytes)])}...)");

        int port = Bench.FreePort();
        await using WebApplication app = await Bench.StartRelayAsync(port, client);
        RelayFeed feed = await Bench.InSyncAsync(app);
        long snapshotBytes = (await feed.GetSnapshotAsync()).Bytes;
        using var counters = new Counters();
        foreach (bool compress in new[] { false, true })
        {
            counters.Reset();
            TimeSpan relayCpu = Process.GetCurrentProcess().TotalProcessorTime;
            string[] arguments = compress
                ? ["relay-clients", $"http://127.0.0.1:{port}", clients.ToString(CultureInfo.InvariantCulture), keys.ToString(CultureInfo.InvariantCulture), "compress"]
                : ["relay-clients", $"http://127.0.0.1:{port}", clients.ToString(CultureInfo.InvariantCulture), keys.ToString(CultureInfo.InvariantCulture)];
            using Process children = Bench.Child(arguments);
            string? line = await Bench.WaitForLineAsync(children, "all_insync_seconds=");
            double relaySeconds = (Process.GetCurrentProcess().TotalProcessorTime - relayCpu).TotalSeconds;
            Console.WriteLine(FormattableString.Invariant(
                $"{(compress ? "compressed" : "plain"),-10}: relay_bytes_sent={counters.Get("watchersync.relay.bytes_sent") / 1048576.0:0.0} MiB relay_cpu_seconds={relaySeconds:0.0} chunks_compressed={counters.Get("watchersync.relay.compression.chunks")} plain_bytes={counters.Get("watchersync.relay.compression.plain_bytes") / 1048576.0:0.0} MiB sent_bytes={counters.Get("watchersync.relay.compression.sent_bytes") / 1048576.0:0.0} MiB snapshot={snapshotBytes / 1048576.0:0.00} MiB; clients: {line}"));
            children.StandardInput.Close();
            await children.WaitForExitAsync();
        }

        await app.StopAsync();
        return 0;
    }

    /// <summary>A resource like a Calico WorkloadEndpoint as JSON, padded or cut to <paramref name="length"/> bytes.</summary>
    private static byte[] Json(int i, int length)
    {
        string json = $"{{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":\"WorkloadEndpoint\",\"metadata\":{{\"name\":\"node{i % 50}-k8s-pod{i}-eth0\",\"namespace\":\"ns{i % 20}\",\"uid\":\"{Guid.NewGuid()}\",\"labels\":{{\"app\":\"app{i % 30}\"}}}},\"spec\":{{\"ipNetworks\":[\"10.{i % 250}.{i / 250 % 250}.{i % 7}/32\"],\"node\":\"node{i % 50}\",\"profiles\":[\"kns.ns{i % 20}\"],\"interfaceName\":\"cali{i:x8}\"}}}}";
        return Encoding.UTF8.GetBytes(json.Length >= length ? json[..length] : json.PadRight(length));
    }

    private static byte[] Random(int length)
    {
        byte[] bytes = new byte[length];
        System.Random.Shared.NextBytes(bytes);

        // Values starting with 't' are the timed writes' (their timestamp follows): never one of these.
        bytes[0] = (byte)'r';
        return bytes;
    }

    /// <summary>Sums of the relay's counters (one relay in this process) since the last reset.</summary>
    private sealed class Counters : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _sums = new(StringComparer.Ordinal);

        public Counters()
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name.StartsWith("watchersync.relay.", StringComparison.Ordinal))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            {
                lock (_sums)
                {
                    _sums[instrument.Name] = _sums.GetValueOrDefault(instrument.Name) + value;
                }
            });
            _listener.Start();
        }

        public long Get(string name)
        {
            lock (_sums)
            {
                return _sums.GetValueOrDefault(name);
            }
        }

        public void Reset()
        {
            lock (_sums)
            {
                _sums.Clear();
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
