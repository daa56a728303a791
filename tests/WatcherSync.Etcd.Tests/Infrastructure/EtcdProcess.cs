using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace WatcherSync.Etcd.Tests.Infrastructure;

/// <summary>
/// One real etcd member on free loopback ports with a temporary data dir. Started and health-checked with a
/// deadline; killed and its data deleted on dispose. If etcd cannot be started the test fails with the reason.
/// </summary>
public sealed class EtcdProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(30);

    private readonly List<string> _arguments;
    private readonly Func<HttpMessageHandler>? _healthHandler;
    private readonly Queue<string> _output = new();
    private Process? _process;

    private EtcdProcess(string name, string clientUrl, string peerUrl, string dataDir, List<string> arguments, Func<HttpMessageHandler>? healthHandler)
    {
        Name = name;
        ClientUrl = clientUrl;
        PeerUrl = peerUrl;
        DataDir = dataDir;
        _arguments = arguments;
        _healthHandler = healthHandler;
    }

    public string Name { get; }

    public string ClientUrl { get; }

    public string PeerUrl { get; }

    public string DataDir { get; }

    public int? Pid => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>Starts a single-member etcd.</summary>
    public static async Task<EtcdProcess> StartAsync(EtcdTls? tls = null, IEnumerable<string>? extraArguments = null)
    {
        EtcdProcess etcd = Create("default", FreePort(), FreePort(), tls, extraArguments);
        etcd.AddCluster([etcd], "new");
        await etcd.StartAgainAsync();
        return etcd;
    }

    /// <summary>Starts a cluster of <paramref name="members"/> members and waits until every one is healthy.</summary>
    public static async Task<IReadOnlyList<EtcdProcess>> StartClusterAsync(int members)
    {
        var all = Enumerable.Range(0, members).Select(i => Create($"m{i}", FreePort(), FreePort(), null, null)).ToList();
        foreach (EtcdProcess member in all)
        {
            member.AddCluster(all, "new");
            member.Launch();
        }

        try
        {
            await Task.WhenAll(all.Select(m => m.WaitHealthyAsync()));
        }
        catch
        {
            foreach (EtcdProcess member in all)
            {
                await member.DisposeAsync();
            }

            throw;
        }

        return all;
    }

    /// <summary>Starts the member again with the same ports and data (after <see cref="Kill"/>).</summary>
    public async Task StartAgainAsync()
    {
        Launch();
        await WaitHealthyAsync();
    }

    /// <summary>Kills the member with SIGKILL (no clean shutdown) and waits until it is gone.</summary>
    public void Kill()
    {
        if (_process is { } p)
        {
            if (!p.HasExited)
            {
                p.Kill();
                p.WaitForExit();
            }

            p.Dispose();
            _process = null;
        }
    }

    /// <summary>
    /// Stops the member gracefully (SIGTERM, as systemd does on a restart: a leader hands leadership over first) and
    /// waits until it has exited; <see cref="StartAgainAsync"/> brings it back with the same data.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } p)
        {
            await SignalAsync("TERM");
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await p.WaitForExitAsync(deadline.Token);
        }

        Kill();
    }

    /// <summary>Freezes (STOP) or thaws (CONT) the member: frozen, it holds its connections and answers nothing.</summary>
    /// <exception cref="InvalidOperationException">The member is not running or kill(1) failed.</exception>
    public async Task SignalAsync(string signal)
    {
        int pid = Pid ?? throw new InvalidOperationException($"{Name} is not running.");
        using Process kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { $"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture) } })!;
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {pid} failed with {kill.ExitCode}.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        await Task.Yield();
        try
        {
            Directory.Delete(DataDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static EtcdProcess Create(string name, int clientPort, int peerPort, EtcdTls? tls, IEnumerable<string>? extra)
    {
        string scheme = tls is null ? "http" : "https";
        string clientUrl = $"{scheme}://127.0.0.1:{clientPort}";
        string peerUrl = $"http://127.0.0.1:{peerPort}";
        string dataDir = Path.Combine(Path.GetTempPath(), $"watchersync-etcd-{Guid.NewGuid():N}");
        var args = new List<string>
        {
            "--name", name,
            "--data-dir", dataDir,
            "--listen-client-urls", clientUrl,
            "--advertise-client-urls", clientUrl,
            "--listen-peer-urls", peerUrl,
            "--initial-advertise-peer-urls", peerUrl,
            "--experimental-watch-progress-notify-interval", "1s",
            "--log-level", "warn",
        };
        if (tls is not null)
        {
            args.AddRange(["--cert-file", tls.ServerCertFile, "--key-file", tls.ServerKeyFile, "--trusted-ca-file", tls.CaFile, "--client-cert-auth"]);
        }

        args.AddRange(extra ?? []);
        return new EtcdProcess(name, clientUrl, peerUrl, dataDir, args, tls is null ? null : tls.CreateHandler);
    }

    private void AddCluster(IEnumerable<EtcdProcess> members, string state)
    {
        _arguments.AddRange([
            "--initial-cluster", string.Join(",", members.Select(m => $"{m.Name}={m.PeerUrl}")),
            "--initial-cluster-state", state,
            "--initial-cluster-token", "watchersync-test",
        ]);
    }

    private void Launch()
    {
        var info = new ProcessStartInfo("etcd")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string arg in _arguments)
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            _process = Process.Start(info) ?? throw new InvalidOperationException("Process.Start returned null.");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new InvalidOperationException(
                $"Cannot start etcd ({ex.Message}). The etcd tests need Debian's etcd-server on the PATH: run scripts/test.sh, which installs it.", ex);
        }

        _process.OutputDataReceived += (_, e) => Remember(e.Data);
        _process.ErrorDataReceived += (_, e) => Remember(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    private async Task WaitHealthyAsync()
    {
        using var http = new HttpClient(_healthHandler?.Invoke() ?? new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        string last = "no answer yet";
        while (clock.Elapsed < StartDeadline)
        {
            if (_process is null || _process.HasExited)
            {
                throw new InvalidOperationException($"etcd {Name} exited during start-up (code {_process?.ExitCode}). Last output:{Environment.NewLine}{Tail()}");
            }

            try
            {
                string health = await http.GetStringAsync($"{ClientUrl}/health");
                if (health.Contains("\"health\":\"true\"", StringComparison.Ordinal))
                {
                    return;
                }

                last = health;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                last = ex.Message;
            }

            await Task.Delay(50);
        }

        throw new InvalidOperationException($"etcd {Name} at {ClientUrl} was not healthy within {StartDeadline.TotalSeconds} s ({last}). Last output:{Environment.NewLine}{Tail()}");
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > 40)
            {
                _output.Dequeue();
            }
        }
    }

    private string Tail()
    {
        lock (_output)
        {
            return string.Join(Environment.NewLine, _output);
        }
    }
}
