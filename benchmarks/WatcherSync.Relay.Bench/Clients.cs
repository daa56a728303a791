using System.Diagnostics;
using System.Globalization;
using System.Text;
using WatcherSync;
using WatcherSync.Etcd;
using WatcherSync.Relay;

/// <summary>The client side of the benchmark: many syncers in one process, each with its own connection.</summary>
internal static class Clients
{
    /// <summary>
    /// Relay clients that report the time to all InSync, then the latencies of the parent's writes. With
    /// <paramref name="slow"/>, every client reaches the relay through a <see cref="SlowLink"/>, unpaced until the
    /// parent says "slow BYTES_PER_SECOND" (before its writes): from then on each client reads at that rate.
    /// </summary>
    public static async Task<int> RelayAsync(Uri relay, int count, int keys, bool compress = false, bool slow = false)
    {
        var clock = Stopwatch.StartNew();
        await using SlowLink? link = slow ? SlowLink.Start(relay) : null;
        (LatencySink[] sinks, RelaySyncer[] syncers) = StartRelaySyncers([link?.Address ?? relay], count, compress);
        return await MeasureAsync(sinks, clock, keys, () => syncers.Sum(s => s.Resyncs + s.Resumes - 1), () => StopAsync(syncers), link);
    }

    /// <summary>
    /// Relay clients that reach InSync, then, once the parent says the relay was restarted ("restarted", or
    /// "restarted N" when N timed writes follow), report the time until every one of them has been served again (a
    /// snapshot or a resume), holds every key in sync, and has seen the N writes.
    /// </summary>
    public static async Task<int> RelayRestartAsync(Uri[] relays, int count, int keys)
    {
        var clock = Stopwatch.StartNew();
        (LatencySink[] sinks, RelaySyncer[] syncers) = StartRelaySyncers(relays, count);
        await WaitInSyncAsync(sinks, keys, clock);
        Console.WriteLine(FormattableString.Invariant($"all_insync_seconds={clock.Elapsed.TotalSeconds:0.00} keys_each={sinks[0].Count}"));
        long[] sessions = [.. syncers.Select(s => s.Resyncs + s.Resumes)];
        string[] said = (await Console.In.ReadLineAsync() ?? string.Empty).Split(' ');
        if (said[0] != "restarted")
        {
            await StopAsync(syncers);
            return 1;
        }

        int writes = said.Length > 1 ? int.Parse(said[1], CultureInfo.InvariantCulture) : 0;

        var back = Stopwatch.StartNew();
        TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime;
        while (Enumerable.Range(0, count).Any(i => syncers[i].Resyncs + syncers[i].Resumes <= sessions[i] || !sinks[i].InSync || sinks[i].Count < keys || sinks[i].Timed < writes))
        {
            if (back.Elapsed > TimeSpan.FromMinutes(5))
            {
                Console.WriteLine($"all_back_seconds=timeout back={Enumerable.Range(0, count).Count(i => syncers[i].Resyncs + syncers[i].Resumes > sessions[i])}/{count}");
                await StopAsync(syncers);
                return 1;
            }

            await Task.Delay(20);
        }

        Console.WriteLine(FormattableString.Invariant(
            $"all_back_seconds={back.Elapsed.TotalSeconds:0.00} resumes={syncers.Sum(s => s.Resumes)} snapshots={syncers.Sum(s => s.Resyncs) - count} client_cpu_seconds={(Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds:0.0}"));
        await Console.In.ReadLineAsync();
        await StopAsync(syncers);
        return 0;
    }

    private static (LatencySink[] Sinks, RelaySyncer[] Syncers) StartRelaySyncers(Uri[] relays, int count, bool compress = false)
    {
        var sinks = new LatencySink[count];
        var syncers = new RelaySyncer[count];
        for (int i = 0; i < count; i++)
        {
            sinks[i] = new LatencySink();
            var options = new RelaySyncerOptions { ClientName = $"bench-{i}", MaxReconnectDelay = TimeSpan.FromSeconds(2), Compression = compress };
            foreach (Uri relay in relays)
            {
                options.Endpoints.Add(relay);
            }

            syncers[i] = new RelaySyncer(options, sinks[i]);
            syncers[i].Start();
        }

        return (sinks, syncers);
    }

    private static async Task StopAsync(RelaySyncer[] syncers)
    {
        foreach (RelaySyncer syncer in syncers)
        {
            await syncer.DisposeAsync();
        }
    }

    private static async Task<bool> WaitInSyncAsync(LatencySink[] sinks, int keys, Stopwatch clock)
    {
        while (sinks.Any(s => !s.InSync || s.Count < keys))
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(5))
            {
                return false;
            }

            await Task.Delay(20);
        }

        return true;
    }

    public static async Task<int> DirectAsync(string endpoint, string prefix, int count, int keys)
    {
        var sinks = new LatencySink[count];
        var clients = new EtcdBackendClient[count];
        var syncers = new ISyncer[count];
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            sinks[i] = new LatencySink();
            clients[i] = new EtcdBackendClient(new EtcdClientOptions { Endpoints = [endpoint] });
            syncers[i] = clients[i].CreateSyncer([new ResourceType(new PrefixListOptions(prefix))], sinks[i]);
            syncers[i].Start();
        }

        return await MeasureAsync(sinks, clock, keys, () => 0, async () =>
        {
            foreach (ISyncer syncer in syncers)
            {
                await syncer.DisposeAsync();
            }

            foreach (EtcdBackendClient client in clients)
            {
                await client.DisposeAsync();
            }
        });
    }

    private static async Task<int> MeasureAsync(LatencySink[] sinks, Stopwatch clock, int keys, Func<long> reconnects, Func<Task> stop, SlowLink? link = null)
    {
        if (!await WaitInSyncAsync(sinks, keys, clock))
        {
            Console.WriteLine($"all_insync_seconds=timeout insync={sinks.Count(s => s.InSync)}/{sinks.Length}");
            await stop();
            return 1;
        }

        Console.WriteLine(FormattableString.Invariant($"all_insync_seconds={clock.Elapsed.TotalSeconds:0.00} keys_each={sinks[0].Count} client_cpu_seconds={Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:0.0} client_gc_pause_seconds={GC.GetTotalPauseDuration().TotalSeconds:0.0} client_heap_mib={GC.GetTotalMemory(false) / 1048576} client_alloc_bytes_per_key={GC.GetTotalAllocatedBytes() / Math.Max(1.0, (double)sinks.Length * keys):0}"));

        // The parent says how many writes it made (or closes stdin when there are none), after "slow N" in slow runs.
        TimeSpan cpuAtInSync = Process.GetCurrentProcess().TotalProcessorTime;
        long reconnectsAtInSync = reconnects();
        string? line = await Console.In.ReadLineAsync();
        if (line is not null && line.StartsWith("slow ", StringComparison.Ordinal) && link is not null)
        {
            link.BytesPerSecond = long.Parse(line.AsSpan(5), CultureInfo.InvariantCulture);
            line = await Console.In.ReadLineAsync();
        }

        if (line is not null && int.TryParse(line, CultureInfo.InvariantCulture, out int written) && written > 0)
        {
            var wait = Stopwatch.StartNew();
            TimeSpan patience = link is { BytesPerSecond: > 0 } ? TimeSpan.FromSeconds(30) : TimeSpan.FromSeconds(60);
            while (sinks.Any(s => s.Timed < written) && wait.Elapsed < patience)
            {
                await Task.Delay(20);
            }

            var all = new List<double>();
            foreach (LatencySink sink in sinks)
            {
                all.AddRange(sink.Latencies);
            }

            all.Sort();
            double P(double q) => all.Count == 0 ? double.NaN : all[Math.Min(all.Count - 1, (int)(q * all.Count))];
            int converged = sinks.Count(s => s.Timed >= written);
            Console.WriteLine(FormattableString.Invariant($"latency_p50_ms={P(0.5):0.0} p99_ms={P(0.99):0.0} max_ms={all.LastOrDefault():0.0} samples={all.Count} converged={converged}/{sinks.Length} reconnects={reconnects()} (since in sync {reconnects() - reconnectsAtInSync}) client_cpu_seconds={Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:0.0} write_phase_cpu_seconds={(Process.GetCurrentProcess().TotalProcessorTime - cpuAtInSync).TotalSeconds:0.0} waited_seconds={wait.Elapsed.TotalSeconds:0.0}"));
            await Console.In.ReadLineAsync();
        }

        await stop();
        return 0;
    }

    /// <summary>Counts keys and, for values written by the benchmark, the time from the write being sent to this callback.</summary>
    private sealed class LatencySink : ISyncerCallbacks
    {
        private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
        private readonly List<double> _latencies = [];
        private volatile bool _inSync;
        private int _count;
        private int _timed;

        public bool InSync => _inSync;

        public int Count => Volatile.Read(ref _count);

        public int Timed => Volatile.Read(ref _timed);

        public List<double> Latencies
        {
            get
            {
                lock (_latencies)
                {
                    return [.. _latencies];
                }
            }
        }

        public void OnStatusUpdated(SyncStatus status) => _inSync = status == SyncStatus.InSync;

        public void OnUpdates(IReadOnlyList<Update> updates)
        {
            long now = Stopwatch.GetTimestamp();
            foreach (Update update in updates)
            {
                string key = update.KVPair.Key.DefaultPath;
                if (update.UpdateType == UpdateType.Deleted)
                {
                    _keys.Remove(key);
                }
                else
                {
                    _keys.Add(key);
                    if (update.KVPair.Value is byte[] { Length: > 1 } bytes && bytes[0] == (byte)'t')
                    {
                        int end = Array.IndexOf(bytes, (byte)'w');
                        long sent = long.Parse(Encoding.ASCII.GetString(bytes, 1, (end < 0 ? bytes.Length : end) - 1), CultureInfo.InvariantCulture);
                        lock (_latencies)
                        {
                            _latencies.Add(Stopwatch.GetElapsedTime(sent, now).TotalMilliseconds);
                        }

                        Interlocked.Increment(ref _timed);
                    }
                }
            }

            Volatile.Write(ref _count, _keys.Count);
        }
    }
}
