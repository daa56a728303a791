using System.Diagnostics;
using System.Globalization;

namespace WatcherSync.Etcd.Bench;

/// <summary>
/// Counts the requests that reach etcd itself: polls the server's Prometheus endpoint every 100 ms and records the
/// growth of <c>grpc_server_started_total</c> for the Watch streams and the Range (list) calls, stamped with when
/// it was read. A request that never reached the server (refused connection, failed before the stream) is not counted,
/// unlike the client-side counts.
/// </summary>
internal sealed class EtcdRequestCounter : IAsyncDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    // Not disposed: cancelled once, which is what makes a second DisposeAsync a no-op.
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(long At, long Delta)> _deltas = [];
    private readonly Task _run;

    public EtcdRequestCounter(Uri endpoint)
    {
        _run = RunAsync(new Uri(endpoint, "/metrics"));
    }

    /// <summary>Gets the growth of the counters at each read (the first read counts from zero: a fresh server).</summary>
    public IReadOnlyList<(long At, long Delta)> Deltas
    {
        get
        {
            lock (_deltas)
            {
                return [.. _deltas];
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync();
        try
        {
            await _run;
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        _http.Dispose();
    }

    private async Task RunAsync(Uri metrics)
    {
        long last = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        do
        {
            string text;
            try
            {
                text = await _http.GetStringAsync(metrics, _stop.Token);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !_stop.IsCancellationRequested)
            {
                Console.Error.WriteLine($"reading etcd's metrics failed: {ex.Message}");
                continue;
            }

            long total = Parse(text);
            lock (_deltas)
            {
                _deltas.Add((Stopwatch.GetTimestamp(), total - last));
            }

            last = total;
        }
        while (await timer.WaitForNextTickAsync(_stop.Token));
    }

    private static long Parse(string text)
    {
        long total = 0;
        foreach (string line in text.Split('\n'))
        {
            if (line.StartsWith("grpc_server_started_total{", StringComparison.Ordinal)
                && (line.Contains("grpc_method=\"Watch\"", StringComparison.Ordinal) || line.Contains("grpc_method=\"Range\"", StringComparison.Ordinal)))
            {
                total += (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return total;
    }
}
