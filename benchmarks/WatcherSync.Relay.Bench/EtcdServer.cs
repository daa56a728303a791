using System.Diagnostics;
using System.Globalization;

/// <summary>A throwaway etcd on loopback ports with a temporary data directory, and what its /metrics says.</summary>
internal sealed class EtcdServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dataDir;
    // etcd closes idle connections; a pooled one would be reset under the next sample.
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromMilliseconds(500) });

    private EtcdServer(Process process, string dataDir, string endpoint)
    {
        _process = process;
        _dataDir = dataDir;
        Endpoint = endpoint;
    }

    public string Endpoint { get; }

    public int Pid => _process.Id;

    public static async Task<EtcdServer> StartAsync()
    {
        int client = Bench.FreePort();
        int peer = Bench.FreePort();
        string dataDir = Directory.CreateTempSubdirectory("watchersync-relay-bench-").FullName;
        var start = new ProcessStartInfo("etcd")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[]
        {
            "--data-dir", dataDir,
            "--listen-client-urls", $"http://127.0.0.1:{client}", "--advertise-client-urls", $"http://127.0.0.1:{client}",
            "--listen-peer-urls", $"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peer}",
            "--initial-cluster", $"default=http://127.0.0.1:{peer}", "--quota-backend-bytes", "8589934592",
        })
        {
            start.ArgumentList.Add(argument);
        }

        Process process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new EtcdServer(process, dataDir, $"http://127.0.0.1:{client}");
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using HttpResponseMessage response = await server._http.GetAsync(new Uri($"{server.Endpoint}/health"));
                if (response.IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException) when (clock.Elapsed < TimeSpan.FromSeconds(20))
            {
            }

            await Task.Delay(50);
        }
    }

    public async Task<EtcdSample> SampleAsync()
    {
        string metrics = await _http.GetStringAsync(new Uri($"{Endpoint}/metrics"));
        double Metric(string name)
        {
            foreach (string line in metrics.Split('\n'))
            {
                if (line.StartsWith(name + " ", StringComparison.Ordinal))
                {
                    return double.Parse(line[(name.Length + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture);
                }
            }

            return double.NaN;
        }

        return new EtcdSample(
            Metric("process_cpu_seconds_total"),
            (long)Metric("process_resident_memory_bytes"),
            (long)Metric("etcd_debugging_mvcc_watcher_total"),
            (long)Metric("etcd_debugging_mvcc_watch_stream_total"));
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _http.Dispose();
        Directory.Delete(_dataDir, recursive: true);
    }
}

internal readonly record struct EtcdSample(double CpuSeconds, long RssBytes, long Watchers, long WatchStreams);
