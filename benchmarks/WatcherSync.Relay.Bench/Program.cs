using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WatcherSync;
using WatcherSync.Etcd;
using WatcherSync.Relay;
using WatcherSync.Relay.Server;

// Usage:
//   bench CLIENTS KEYS VALUE_BYTES WRITES_PER_SECOND WRITE_SECONDS [direct] [--client-processes N] [--compress] [--slow F] [--max-log-mib M] [--writer-in-flight N]
//     starts a throwaway etcd, loads KEYS keys, serves them from a relay in this process to CLIENTS relay clients in a
//     child process, measures time to all InSync, etcd's watchers, CPU and memory, the relay's memory per client,
//     then writes at WRITES_PER_SECOND for WRITE_SECONDS and reports commit-to-callback latency; with "direct", then
//     runs CLIENTS direct syncers against etcd in a child process for the side-by-side figures. With
//     --client-processes N the relay clients are spread over N child processes (CPU reported per process and for the
//     relay alone). The writer is a child process of its own (so that the relay's CPU is the relay's), paced (at most
//     32 transactions in flight, or --writer-in-flight; it falls behind its schedule rather than pile up) and retrying a refused or failed
//     transaction (503 from etcd's gateway under load) up to 5 times; it reports what it managed. With --slow F, every
//     client reads, from the writes on, at F times the bytes per second the writes make for one client (a client whose
//     HTTP/2 stream window fills: SlowLink.cs); the relay's memory is sampled meanwhile and reported against the bound
//     docs/relay.md states, computed for the run's settings. --max-log-mib sets the relay's MaxLogBytes (64 MiB by
//     default), so that a short run can wrap the log under the slow clients.
//   bench CLIENTS KEYS VALUE_BYTES 0 0 compress [bench|json|random]
//     compression side by side: the same relay serves CLIENTS clients asking for plain bytes, then CLIENTS asking for
//     compressed ones; reports the relay's bytes sent and CPU seconds and the clients' CPU seconds for each, on the
//     benchmark's values ('v' repeated, the default), JSON-like resources, or random bytes.
//   restart CLIENTS KEYS VALUE_BYTES resume|snapshot
//     starts a throwaway etcd, loads KEYS keys, serves them to CLIENTS relay clients in a child process, then kills
//     the relay and starts it again on the same port over the same etcd; reports the bytes the restarted relay sent
//     and the time until every client is InSync again, continued from its position ("resume") or, with the restarted
//     relay given another DatastoreEpoch as after a restore from backup, from a full snapshot ("snapshot").
//   failover CLIENTS KEYS VALUE_BYTES WRITES resume|snapshot
//     the same with a second relay running: the first is killed, WRITES keys are updated at once, and every client
//     moves to the second; reports what the second sent and the time until every client is InSync with the writes.
//   relay-clients URL CLIENTS EXPECTED_KEYS [compress]   (child) RelaySyncers (asking for compression with
//     "compress"); reports time to all InSync, then latencies
//   relay-clients-restart URL CLIENTS EXPECTED_KEYS   (child) the same, then waits for "restarted" on stdin and
//     reports the time until every client has been served again and is InSync
//   direct-clients ENDPOINT PREFIX CLIENTS EXPECTED_KEYS   (child) WatcherSyncers straight on etcd
//   writer ENDPOINT KEYS WRITES_PER_SECOND WRITE_SECONDS [IN_FLIGHT]   (child) the writer of "bench"
switch (args[0])
{
    case "bench" when args.Length > 6 && args[6] == "compress":
        return await CompressBench.RunAsync(
            int.Parse(args[1], CultureInfo.InvariantCulture),
            int.Parse(args[2], CultureInfo.InvariantCulture),
            int.Parse(args[3], CultureInfo.InvariantCulture),
            args.Length > 7 ? args[7] : "bench");
    case "bench":
        return await Bench.RunAsync(
            int.Parse(args[1], CultureInfo.InvariantCulture),
            int.Parse(args[2], CultureInfo.InvariantCulture),
            int.Parse(args[3], CultureInfo.InvariantCulture),
            int.Parse(args[4], CultureInfo.InvariantCulture),
            int.Parse(args[5], CultureInfo.InvariantCulture),
            args.Contains("direct"),
            Array.IndexOf(args, "--client-processes") is int at and > 0 ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : 1,
            args.Contains("--compress"),
            Array.IndexOf(args, "--slow") is int slowAt and > 0 ? double.Parse(args[slowAt + 1], CultureInfo.InvariantCulture) : 0,
            Array.IndexOf(args, "--max-log-mib") is int logAt and > 0 ? long.Parse(args[logAt + 1], CultureInfo.InvariantCulture) * 1024 * 1024 : 0,
            Array.IndexOf(args, "--writer-in-flight") is int flightAt and > 0 ? int.Parse(args[flightAt + 1], CultureInfo.InvariantCulture) : Writer.DefaultInFlight);
    case "restart":
        return await Restart.RunAsync(
            int.Parse(args[1], CultureInfo.InvariantCulture),
            int.Parse(args[2], CultureInfo.InvariantCulture),
            int.Parse(args[3], CultureInfo.InvariantCulture),
            args[4] == "resume",
            writes: 0,
            failover: false);
    case "failover":
        return await Restart.RunAsync(
            int.Parse(args[1], CultureInfo.InvariantCulture),
            int.Parse(args[2], CultureInfo.InvariantCulture),
            int.Parse(args[3], CultureInfo.InvariantCulture),
            args[5] == "resume",
            int.Parse(args[4], CultureInfo.InvariantCulture),
            failover: true);
    case "relay-clients":
        return await Clients.RelayAsync(new Uri(args[1]), int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture), args.Length > 4 && args[4] == "compress", args.Length > 5 && args[5] == "slow");
    case "writer":
        return await Writer.RunAsync(
            args[1],
            int.Parse(args[2], CultureInfo.InvariantCulture),
            int.Parse(args[3], CultureInfo.InvariantCulture),
            int.Parse(args[4], CultureInfo.InvariantCulture),
            args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : Writer.DefaultInFlight);
    case "relay-clients-restart":
        return await Clients.RelayRestartAsync([.. args[1].Split(',').Select(u => new Uri(u))], int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture));
    case "direct-clients":
        return await Clients.DirectAsync(args[1], args[2], int.Parse(args[3], CultureInfo.InvariantCulture), int.Parse(args[4], CultureInfo.InvariantCulture));
    default:
        Console.Error.WriteLine("unknown mode");
        return 2;
}

internal static class Bench
{
    public const string Prefix = "/bench/relay/";

    public static async Task<int> RunAsync(int clients, int keys, int valueBytes, int writesPerSecond, int writeSeconds, bool direct, int processes, bool compress = false, double slow = 0, long maxLogBytes = 0, int writerInFlight = Writer.DefaultInFlight)
    {
        await using var etcd = await EtcdServer.StartAsync();
        Console.WriteLine($"etcd pid {etcd.Pid} at {etcd.Endpoint}");
        await using var client = new EtcdBackendClient(new EtcdClientOptions { Endpoints = [etcd.Endpoint] });
        await LoadAsync(client, keys, valueBytes);
        Console.WriteLine($"loaded {keys} keys x {valueBytes} B");

        // --- relay ---
        EtcdSample before = await etcd.SampleAsync();
        int port = FreePort();
        using var cutOffs = new CutOffs();
        await using WebApplication app = await StartRelayAsync(port, client, maxLogBytes: maxLogBytes);
        RelayHost host = app.Services.GetRequiredService<RelayHost>();
        RelayFeed feedState = await InSyncAsync(app);

        // The relay's memory with its picture and no client: the baseline the per-client figure is measured from.
        await feedState.GetSnapshotAsync();
        long relayBaseline = Managed();
        var childClock = Stopwatch.StartNew();
        TimeSpan relayCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        TimeSpan relaySysBefore = Process.GetCurrentProcess().PrivilegedProcessorTime;
        Process[] children = [.. Enumerable.Range(0, processes).Select(p => Child(
            "relay-clients",
            $"http://127.0.0.1:{port}",
            (clients / processes + (p < clients % processes ? 1 : 0)).ToString(CultureInfo.InvariantCulture),
            keys.ToString(CultureInfo.InvariantCulture),
            compress ? "compress" : "plain",
            slow > 0 ? "slow" : "fast"))];
        string?[] insyncLines = await Task.WhenAll(children.Select(c => WaitForLineAsync(c, "all_insync_seconds=")));
        double allInSync = childClock.Elapsed.TotalSeconds;
        double relayCpu = (Process.GetCurrentProcess().TotalProcessorTime - relayCpuBefore).TotalSeconds;
        double relaySys = (Process.GetCurrentProcess().PrivilegedProcessorTime - relaySysBefore).TotalSeconds;
        for (int p = 0; p < processes; p++)
        {
            Console.WriteLine($"relay: client process {p + 1}/{processes}: {insyncLines[p]}");
        }

        Console.WriteLine(FormattableString.Invariant(
            $"relay: {clients} clients in {processes} process(es) all_insync_seconds={allInSync:0.00} relay_cpu_seconds={relayCpu:0.00} relay_cpu_ms_per_snapshot={relayCpu * 1000 / clients:0.00} (kernel {relaySys * 1000 / clients:0.00}) relay_gc_pause_seconds={GC.GetTotalPauseDuration().TotalSeconds:0.00}"));
        long relayWithClients = Managed();
        Console.WriteLine(FormattableString.Invariant($"relay: managed heap {relayBaseline / 1048576.0:0.0} MiB without clients (picture, log, snapshot), {relayWithClients / 1048576.0:0.0} MiB with {host.Connections.Count} clients: {(relayWithClients - relayBaseline) / (double)Math.Max(1, clients):0} B per client; process RSS {Environment.WorkingSet / 1048576.0:0} MiB"));
        EtcdSample afterInsync = await etcd.SampleAsync();
        Console.WriteLine(FormattableString.Invariant($"relay: etcd watchers {afterInsync.Watchers} (watch streams {afterInsync.WatchStreams}), etcd CPU {afterInsync.CpuSeconds - before.CpuSeconds:0.00} s, etcd RSS {afterInsync.RssBytes / 1048576.0:0} MiB, snapshots encoded {feedState.SnapshotsEncoded}, cut-offs by reason {cutOffs}"));

        // --- steady state ---
        if (writeSeconds > 0)
        {
            if (slow > 0)
            {
                long perClient = (long)(slow * writesPerSecond * Writer.WireBytesPerWrite);
                Console.WriteLine(FormattableString.Invariant($"slow: every client reads at {perClient} B/s from now on ({slow:0.###} of the {writesPerSecond * Writer.WireBytesPerWrite} B/s the writes make for each)"));
                foreach (Process child in children)
                {
                    await child.StandardInput.WriteLineAsync(FormattableString.Invariant($"slow {perClient}"));
                    await child.StandardInput.FlushAsync();
                }
            }

            EtcdSample beforeWrites = await etcd.SampleAsync();
            TimeSpan relayCpuBeforeWrites = Process.GetCurrentProcess().TotalProcessorTime;
            using var sampling = new CancellationTokenSource();
            Task<(long Heap, long Rss)> peaks = SamplePeaksAsync(sampling.Token);
            using Process writer = Child(
                "writer",
                etcd.Endpoint,
                keys.ToString(CultureInfo.InvariantCulture),
                writesPerSecond.ToString(CultureInfo.InvariantCulture),
                writeSeconds.ToString(CultureInfo.InvariantCulture),
                writerInFlight.ToString(CultureInfo.InvariantCulture));
            string? writtenLine = await WaitForLineAsync(writer, "written=");
            await writer.WaitForExitAsync();
            int written = writtenLine is null ? 0 : int.Parse(writtenLine.AsSpan(writtenLine.IndexOf('=', StringComparison.Ordinal) + 1), CultureInfo.InvariantCulture);
            if (slow > 0)
            {
                await ReportBoundAsync(app, feedState, clients, relayBaseline);
                Console.WriteLine($"relay: cut-offs so far by reason: {cutOffs}");
            }

            foreach (Process child in children)
            {
                await child.StandardInput.WriteLineAsync(written.ToString(CultureInfo.InvariantCulture));
                await child.StandardInput.FlushAsync();
            }

            string?[] latencies = await Task.WhenAll(children.Select(c => WaitForLineAsync(c, "latency_p50_ms=")));
            double relayCpuWrites = (Process.GetCurrentProcess().TotalProcessorTime - relayCpuBeforeWrites).TotalSeconds;
            await sampling.CancelAsync();
            (long peakHeap, long peakRss) = await peaks;
            EtcdSample afterWrites = await etcd.SampleAsync();
            for (int p = 0; p < processes; p++)
            {
                Console.WriteLine($"relay: wrote {written} in {writeSeconds} s; client process {p + 1}/{processes}: {latencies[p]}");
            }

            Console.WriteLine(FormattableString.Invariant($"relay: relay CPU during writes and until every client converged {relayCpuWrites:0.00} s (the writer is a process of its own), etcd CPU during writes and until every client converged {afterWrites.CpuSeconds - beforeWrites.CpuSeconds:0.00} s, etcd watchers {afterWrites.Watchers}, relay managed heap {Managed() / 1048576.0:0.0} MiB (peak sampled {peakHeap / 1048576.0:0.0} MiB with garbage, RSS peak {peakRss / 1048576.0:0} MiB), log entries {feedState.LogEntries}, cut-offs by reason: {cutOffs}"));
        }

        foreach (Process child in children)
        {
            child.StandardInput.Close();
            await child.WaitForExitAsync();
            child.Dispose();
        }

        await app.StopAsync();

        // --- direct ---
        if (direct)
        {
            await Task.Delay(1000);
            EtcdSample beforeDirect = await etcd.SampleAsync();
            using Process directChildren = Child("direct-clients", etcd.Endpoint, Prefix, clients.ToString(CultureInfo.InvariantCulture), keys.ToString(CultureInfo.InvariantCulture));
            string? directLine = await WaitForLineAsync(directChildren, "all_insync_seconds=");
            EtcdSample afterDirect = await etcd.SampleAsync();
            Console.WriteLine($"direct: {clients} syncers {directLine}");
            Console.WriteLine(FormattableString.Invariant($"direct: etcd watchers {afterDirect.Watchers} (watch streams {afterDirect.WatchStreams}), etcd CPU {afterDirect.CpuSeconds - beforeDirect.CpuSeconds:0.00} s, etcd RSS {afterDirect.RssBytes / 1048576.0:0} MiB"));
            directChildren.StandardInput.Close();
            await directChildren.WaitForExitAsync();
        }

        return 0;
    }

    /// <summary>Samples the process's managed heap (garbage included) and resident memory every second, and returns their peaks.</summary>
    private static async Task<(long Heap, long Rss)> SamplePeaksAsync(CancellationToken cancellationToken)
    {
        long heap = 0;
        long rss = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            do
            {
                heap = Math.Max(heap, GC.GetTotalMemory(false));
                rss = Math.Max(rss, Environment.WorkingSet);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
        }

        return (heap, rss);
    }

    /// <summary>
    /// Prints the relay's live managed heap now (every slow client lagging, the writes just made) against the memory
    /// bound docs/relay.md states, term by term, for this run's settings.
    /// </summary>
    private static async Task ReportBoundAsync(WebApplication app, RelayFeed feed, int clients, long baseline)
    {
        RelayServerOptions options = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<RelayServerOptions>>().Value;
        long snapshot = (await feed.GetSnapshotAsync()).Bytes;
        const long Window = 768 * 1024;
        long message = options.SnapshotChunkBytes + (64 * 1024) + Writer.WireBytesPerWrite;
        const long Position = 100 + 24 + 48;
        long picture = baseline; // the heap with picture, log and one snapshot, before any client: more than the picture
        long log = options.MaxLogBytes;
        long positions = options.MaxLogEntries * Position;
        long snapshots = (2 + options.MaxSupersededSnapshots) * snapshot;
        long perClient = clients * (Window + message);
        long bound = picture + log + positions + snapshots + perClient;
        long live = Managed();
        static string M(long bytes) => FormattableString.Invariant($"{bytes / 1048576.0:0.0} MiB");
        Console.WriteLine($"bound: picture (heap before clients) {M(picture)} + MaxLogBytes {M(log)} + MaxLogEntries x position {M(positions)} + (2 + MaxSupersededSnapshots) x snapshot {M(snapshots)} + clients x (window + message) {M(perClient)} = {M(bound)}");
        Console.WriteLine(FormattableString.Invariant(
            $"bound: relay live managed heap after the writes {M(live)} ({live * 100.0 / bound:0.0} % of the bound; log {M(feed.LogBytes)} in {feed.LogEntries} entries, pinned snapshots {feed.PinnedSnapshots}, connections {app.Services.GetRequiredService<RelayHost>().Connections.Count}), RSS {M(Environment.WorkingSet)}"));
    }

    /// <summary>Starts a relay on <paramref name="port"/> with one feed over <paramref name="backend"/>.</summary>
    public static async Task<WebApplication> StartRelayAsync(int port, IBackendClient backend, string datastoreEpoch = "", long maxLogBytes = 0)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxConcurrentConnections = null;
            k.Listen(IPAddress.Loopback, port, l => l.Protocols = HttpProtocols.Http2);
        });
        builder.Services.AddWatcherSyncRelay(options =>
        {
            var feed = new RelayFeedOptions { Name = "default", Backend = backend, DatastoreEpoch = datastoreEpoch };
            feed.ResourceTypes.Add(new ResourceType(new PrefixListOptions(Prefix)));
            options.Feeds.Add(feed);
            options.AllowAnonymous = true;
            if (maxLogBytes > 0)
            {
                options.MaxLogBytes = maxLogBytes;
            }
        });
        WebApplication app = builder.Build();
        app.MapWatcherSyncRelay();
        await app.StartAsync();
        return app;
    }

    /// <summary>Waits until the relay's feed is in sync, and returns it.</summary>
    public static async Task<RelayFeed> InSyncAsync(WebApplication app)
    {
        app.Services.GetRequiredService<RelayHost>().TryGetFeed("default", out RelayFeed? feed);
        while (feed!.Status != SyncStatus.InSync)
        {
            await Task.Delay(10);
        }

        return feed;
    }

    private static long Managed()
    {
        GC.Collect(2, GCCollectionMode.Forced, true, true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, true, true);
        return GC.GetTotalMemory(true);
    }

    public static async Task LoadAsync(EtcdBackendClient client, int keys, int valueBytes)
    {
        byte[] value = Encoding.UTF8.GetBytes(new string('v', valueBytes));
        await Parallel.ForEachAsync(Enumerable.Range(0, keys), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) =>
            await client.ApplyAsync(new KVPair(new PathKey($"{Prefix}k{i:D7}"), value), ct));
    }

    public static Process Child(params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        string? assembly = typeof(Bench).Assembly.Location;
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
        {
            start.ArgumentList.Add(assembly);
        }

        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start)!;
    }

    public static async Task<string?> WaitForLineAsync(Process process, string marker)
    {
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line.Contains(marker, StringComparison.Ordinal))
            {
                return line;
            }

            Console.WriteLine("  child: " + line);
        }

        return null;
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
