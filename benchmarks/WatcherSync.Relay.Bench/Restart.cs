using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using WatcherSync;
using WatcherSync.Etcd;
using WatcherSync.Relay.Server;

/// <summary>
/// A relay restart, or a failover to a second relay, with many connected clients: the bytes the relay that takes them
/// sends and the time until every client is InSync again, when it continues them from their positions and when it
/// must send them all a snapshot.
/// </summary>
internal static class Restart
{
    public static async Task<int> RunAsync(int clients, int keys, int valueBytes, bool resume, int writes, bool failover)
    {
        await using var etcd = await EtcdServer.StartAsync();
        await using var client = new EtcdBackendClient(new EtcdClientOptions { Endpoints = [etcd.Endpoint] });
        await Bench.LoadAsync(client, keys, valueBytes);
        Console.WriteLine($"loaded {keys} keys x {valueBytes} B");
        using var sent = new RelayCounters();
        int port = Bench.FreePort();
        int secondPort = failover ? Bench.FreePort() : port;
        WebApplication first = await Bench.StartRelayAsync(port, client, "bench-etcd");
        await Bench.InSyncAsync(first);

        // With a failover, the second relay is named too, but starts only once every client is on the first.
        string endpoints = failover ? $"http://127.0.0.1:{port},http://127.0.0.1:{secondPort}" : $"http://127.0.0.1:{port}";
        using Process children = Bench.Child("relay-clients-restart", endpoints, clients.ToString(CultureInfo.InvariantCulture), keys.ToString(CultureInfo.InvariantCulture));
        string? insync = await Bench.WaitForLineAsync(children, "all_insync_seconds=");
        WebApplication? second = null;
        if (failover)
        {
            second = await Bench.StartRelayAsync(secondPort, client, resume ? "bench-etcd" : "bench-etcd-restored");
            await Bench.InSyncAsync(second);
        }

        (long initialBytes, long initialSnapshots, _) = sent.Take();
        Console.WriteLine(FormattableString.Invariant($"start: {clients} clients {insync}; relay sent {initialBytes / 1048576.0:0.0} MiB in {initialSnapshots} snapshots"));

        // Killed at once, as a crash or an abrupt restart would: every connection breaks.
        using (var now = new CancellationTokenSource())
        {
            await now.CancelAsync();
            await first.StopAsync(now.Token);
        }

        await first.DisposeAsync();
        await children.StandardInput.WriteLineAsync(FormattableString.Invariant($"restarted {writes}"));
        await children.StandardInput.FlushAsync();
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;

        // "snapshot": the relay that takes the clients is told the datastore was restored, so no position is continued.
        second ??= await Bench.StartRelayAsync(port, client, resume ? "bench-etcd" : "bench-etcd-restored");
        await WriteStampedAsync(client, keys, writes);
        string? back = await Bench.WaitForLineAsync(children, "all_back_seconds=");
        double relayCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        (long bytes, long snapshots, long resumes) = sent.Take();
        Console.WriteLine(FormattableString.Invariant(
            $"{(failover ? "failover" : "restart")} ({(resume ? "resume" : "snapshot")}, {writes} writes): {back}; the relay that took the clients sent {bytes / 1048576.0:0.00} MiB ({bytes} B, {100.0 * bytes / Math.Max(1, initialBytes):0.0} % of the start's), {snapshots} snapshots, {resumes} resumes, relay CPU {relayCpu:0.0} s"));
        children.StandardInput.Close();
        await children.WaitForExitAsync();
        await second.StopAsync();
        await second.DisposeAsync();
        return 0;
    }

    /// <summary>Updates <paramref name="writes"/> loaded keys with values the clients recognise as timed writes.</summary>
    private static async Task WriteStampedAsync(EtcdBackendClient client, int keys, int writes)
    {
        for (int n = 0; n < writes; n++)
        {
            byte[] value = System.Text.Encoding.ASCII.GetBytes("t" + Stopwatch.GetTimestamp().ToString(CultureInfo.InvariantCulture) + new string('w', 180));
            await client.ApplyAsync(new KVPair(new PathKey($"{Bench.Prefix}k{n % keys:D7}"), value));
        }
    }

    /// <summary>Sums every relay's bytes sent, snapshots sent and resumes in this process, phase by phase.</summary>
    private sealed class RelayCounters : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _bytes;
        private long _snapshots;
        private long _resumes;

        public RelayCounters()
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name is "watchersync.relay.bytes_sent" or "watchersync.relay.snapshots_sent" or "watchersync.relay.resumes")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            {
                switch (instrument.Name)
                {
                    case "watchersync.relay.bytes_sent":
                        Interlocked.Add(ref _bytes, value);
                        break;
                    case "watchersync.relay.snapshots_sent":
                        Interlocked.Add(ref _snapshots, value);
                        break;
                    default:
                        Interlocked.Add(ref _resumes, value);
                        break;
                }
            });
            _listener.Start();
        }

        /// <summary>Returns the sums since the last call, and starts again from zero.</summary>
        public (long Bytes, long Snapshots, long Resumes) Take() =>
            (Interlocked.Exchange(ref _bytes, 0), Interlocked.Exchange(ref _snapshots, 0), Interlocked.Exchange(ref _resumes, 0));

        public void Dispose() => _listener.Dispose();
    }
}
