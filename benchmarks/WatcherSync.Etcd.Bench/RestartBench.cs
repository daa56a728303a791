using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net.Sockets;

namespace WatcherSync.Etcd.Bench;

/// <summary>
/// A fleet of direct syncers (each its own client, as separate processes would be) on one etcd that is killed and
/// started again: the reconnect attempts reaching etcd per second and per 100 ms over the first minute from the kill,
/// and how long after the restart every syncer delivers a write made then. Attempts are counted on the client side:
/// the watches' rejoins (<c>watchersync.etcd.watch.reconnects</c>, recorded as each rejoin fails or is made) and the
/// syncers' own lists and watches. <c>fixed</c> is the behaviour before jittered backoff (watch rejoins at 100 ms
/// doubling to 1 s, syncer retries at the fixed intervals); <c>jittered</c> is the defaults.
/// </summary>
internal static class RestartBench
{
    private const int WindowSeconds = 60;

    public static async Task RunAsync(string endpoint, string prefix, int syncers, int downSeconds, string mode)
    {
        Uri uri = new(endpoint);
        string data = Directory.CreateTempSubdirectory("ws-restart-").FullName;
        var attempts = new ConcurrentQueue<long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name == "watchersync.etcd.watch.reconnects")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) => attempts.Enqueue(Stopwatch.GetTimestamp()));
        listener.Start();

        Process etcd = await StartEtcdAsync(uri, data);
        var clients = new List<EtcdBackendClient>();
        var fleet = new List<(ISyncer Syncer, MarkerSink Sink)>();
        try
        {
            await using (var writer = new EtcdBackendClient(new EtcdClientOptions { Endpoints = [endpoint] }))
            {
                for (int i = 0; i < 10; i++)
                {
                    await writer.ApplyAsync(new KVPair(new PathKey($"{prefix}{i}"), new byte[] { 1 }));
                }
            }

            for (int i = 0; i < syncers; i++)
            {
                var client = new EtcdBackendClient(Options(endpoint, mode));
                clients.Add(client);
                var sink = new MarkerSink($"{prefix}marker");
                ISyncer syncer = new WatcherSyncer(new CountingClient(client, attempts), [new ResourceType(new PrefixListOptions(prefix))], sink, Options(endpoint, mode).SyncerOptions);
                fleet.Add((syncer, sink));
                syncer.Start();
            }

            await Task.WhenAll(fleet.Select(f => f.Sink.InSync.Task)).WaitAsync(TimeSpan.FromMinutes(2));
            attempts.Clear();

            long killed = Stopwatch.GetTimestamp();
            etcd.Kill();
            await etcd.WaitForExitAsync();
            await Task.Delay(TimeSpan.FromSeconds(downSeconds));
            etcd = await StartEtcdAsync(uri, data);
            long restarted = Stopwatch.GetTimestamp();
            await using var atEtcd = new EtcdRequestCounter(uri);
            await using (var writer = new EtcdBackendClient(new EtcdClientOptions { Endpoints = [endpoint] }))
            {
                await writer.ApplyAsync(new KVPair(new PathKey($"{prefix}marker"), new byte[] { 2 }));
            }

            await Task.WhenAll(fleet.Select(f => f.Sink.Marker.Task)).WaitAsync(TimeSpan.FromMinutes(2));
            double allBack = fleet.Max(f => Stopwatch.GetElapsedTime(restarted, f.Sink.MarkerAt).TotalSeconds);
            double median = Stats.Median([.. fleet.Select(f => Stopwatch.GetElapsedTime(restarted, f.Sink.MarkerAt).TotalSeconds)]);
            int inSync = fleet.Count(f => f.Sink.Status == SyncStatus.InSync);
            TimeSpan rest = TimeSpan.FromSeconds(WindowSeconds) - Stopwatch.GetElapsedTime(killed);
            if (rest > TimeSpan.Zero)
            {
                await Task.Delay(rest);
            }

            await atEtcd.DisposeAsync();
            int[] serverSeconds = new int[WindowSeconds];
            int[] serverTenths = new int[WindowSeconds * 10];
            foreach ((long at, long delta) in atEtcd.Deltas)
            {
                int second = (int)Stopwatch.GetElapsedTime(killed, at).TotalSeconds;
                int tenth = (int)(Stopwatch.GetElapsedTime(killed, at).TotalMilliseconds / 100);
                if (second < WindowSeconds)
                {
                    serverSeconds[second] += (int)delta;
                    serverTenths[tenth] += (int)delta;
                }
            }

            long[] times = [.. attempts];
            int[] perSecond = Buckets(times, killed, TimeSpan.FromSeconds(1), WindowSeconds);
            int[] perTenth = Buckets(times, killed, TimeSpan.FromMilliseconds(100), WindowSeconds * 10);
            double restartOffset = Stopwatch.GetElapsedTime(killed, restarted).TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"mode {mode}: {syncers} syncers, etcd down {restartOffset:0.0} s (killed at 0 s, started again at {restartOffset:0.0} s)"));
            int restartTenth = (int)(restartOffset * 10);
            Console.WriteLine($"attempts in the first {WindowSeconds} s: {perSecond.Sum()}; peak {perSecond.Max()}/s (second {Array.IndexOf(perSecond, perSecond.Max())}); peak {perTenth.Max()} per 100 ms");
            Console.WriteLine($"from 2 s after the kill: peak {perSecond.Skip(2).Max()}/s, peak {perTenth.Skip(20).Max()} per 100 ms; in the second after the restart: {perTenth.Skip(restartTenth).Take(10).Sum()} attempts, peak {perTenth.Skip(restartTenth).Take(10).Max()} per 100 ms");
            Console.WriteLine($"per second: {string.Join(' ', perSecond)}");
            Console.WriteLine($"at etcd (Watch streams + Range calls started, read from its /metrics every 100 ms): {serverSeconds.Sum()} in the first {WindowSeconds} s; peak {serverSeconds.Max()}/s (second {Array.IndexOf(serverSeconds, serverSeconds.Max())}); peak {serverTenths.Max()} per 100 ms");
            Console.WriteLine($"at etcd per second: {string.Join(' ', serverSeconds)}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"a write made after the restart reached every syncer {allBack:0.00} s after the restart (median {median:0.00} s); {inSync}/{syncers} InSync"));
        }
        finally
        {
            foreach ((ISyncer syncer, _) in fleet)
            {
                await syncer.StopAsync();
            }

            foreach (EtcdBackendClient client in clients)
            {
                await client.DisposeAsync();
            }

            etcd.Kill();
            await etcd.WaitForExitAsync();
            Directory.Delete(data, recursive: true);
        }
    }

    private static EtcdClientOptions Options(string endpoint, string mode)
    {
        var options = new EtcdClientOptions { Endpoints = [endpoint], SyncerOptions = new WatcherSyncerOptions() };
        if (mode == "fixed")
        {
            // Before: a syncer retried at its fixed floors, and a broken watch rejoined at 100 ms doubling to 1 s, the
            // same for every client (the top of each jitter window is exactly that).
            options.SyncerOptions.Backoff.InitialDelay = TimeSpan.Zero;
            options.WatchReconnectBackoff = new BackoffOptions { InitialDelay = TimeSpan.FromMilliseconds(100), MaxDelay = TimeSpan.FromSeconds(1), Random = new TopOfWindow() };
        }

        return options;
    }

    private static int[] Buckets(long[] times, long start, TimeSpan width, int count)
    {
        var buckets = new int[count];
        foreach (long t in times)
        {
            int index = (int)(Stopwatch.GetElapsedTime(start, t) / width);
            if (index >= 0 && index < count)
            {
                buckets[index]++;
            }
        }

        return buckets;
    }

    private static async Task<Process> StartEtcdAsync(Uri client, string data)
    {
        int peer = client.Port + 1;
        string url = $"http://{client.Host}:{client.Port}";
        var start = new ProcessStartInfo("etcd")
        {
            ArgumentList =
            {
                "--data-dir", data, "--listen-client-urls", url, "--advertise-client-urls", url,
                "--listen-peer-urls", $"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{peer}",
                "--initial-cluster", $"default=http://127.0.0.1:{peer}", "--log-level", "error",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(client.Host, client.Port);
                return process;
            }
            catch (SocketException)
            {
                await Task.Delay(20);
            }
        }

        process.Kill();
        throw new TimeoutException("etcd did not start");
    }

    /// <summary>Counts the syncer's own lists and watches (its retries) as attempts.</summary>
    private sealed class CountingClient(IBackendClient inner, ConcurrentQueue<long> attempts) : IBackendClient
    {
        public Task<KVPair> CreateAsync(KVPair kv, CancellationToken cancellationToken = default) => inner.CreateAsync(kv, cancellationToken);

        public Task<KVPair> UpdateAsync(KVPair kv, CancellationToken cancellationToken = default) => inner.UpdateAsync(kv, cancellationToken);

        public Task<KVPair> ApplyAsync(KVPair kv, CancellationToken cancellationToken = default) => inner.ApplyAsync(kv, cancellationToken);

        public Task<KVPair> DeleteAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => inner.DeleteAsync(key, revision, cancellationToken);

        public Task<KVPair> GetAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => inner.GetAsync(key, revision, cancellationToken);

        public Task<KVPairList> ListAsync(IListOptions list, string? revision = null, CancellationToken cancellationToken = default)
        {
            attempts.Enqueue(Stopwatch.GetTimestamp());
            return inner.ListAsync(list, revision, cancellationToken);
        }

        public Task<IWatch> WatchAsync(IListOptions list, WatchOptions options, CancellationToken cancellationToken = default)
        {
            attempts.Enqueue(Stopwatch.GetTimestamp());
            return inner.WatchAsync(list, options, cancellationToken);
        }

        public ISyncer CreateSyncer(IEnumerable<ResourceType> resourceTypes, ISyncerCallbacks callbacks) => new WatcherSyncer(this, resourceTypes, callbacks);

        public Task EnsureInitializedAsync(CancellationToken cancellationToken = default) => inner.EnsureInitializedAsync(cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Notes InSync, the status, and when a marker key first arrives.</summary>
    private sealed class MarkerSink(string marker) : ISyncerCallbacks
    {
        private int _status;

        public TaskCompletionSource InSync { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Marker { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long MarkerAt { get; private set; }

        public SyncStatus Status => (SyncStatus)Volatile.Read(ref _status);

        public void OnStatusUpdated(SyncStatus status)
        {
            Volatile.Write(ref _status, (int)status);
            if (status == SyncStatus.InSync)
            {
                InSync.TrySetResult();
            }
        }

        public void OnUpdates(IReadOnlyList<Update> updates)
        {
            if (!Marker.Task.IsCompleted && updates.Any(u => u.KVPair.Key.DefaultPath == marker))
            {
                MarkerAt = Stopwatch.GetTimestamp();
                Marker.TrySetResult();
            }
        }
    }

    /// <summary>Draws the top of every jitter window: the deterministic doubling of before.</summary>
    private sealed class TopOfWindow : Random
    {
        public override double NextDouble() => 1.0;
    }
}
