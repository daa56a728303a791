using System.Diagnostics;

namespace WatcherSync.Cli.Bench;

/// <summary>Times <c>etcdctl get --prefix</c> (output read and dropped), the yardstick of the etcd figures.</summary>
internal static class EtcdctlTimer
{
    /// <summary>The etcdctl on the PATH, or null.</summary>
    public static string? Find()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "etcdctl");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Runs etcdctl once and returns the time from start to exit.</summary>
    /// <exception cref="CliException">etcdctl failed.</exception>
    public static async Task<TimeSpan> TimeGetPrefixAsync(string etcdctl, EtcdctlConnection connection, string prefix, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(etcdctl)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ETCDCTL_API"] = "3";
        foreach ((string name, string value) in connection.Environment)
        {
            start.Environment[name] = value;
        }

        foreach (string argument in connection.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add("get");
        start.ArgumentList.Add("--prefix");
        start.ArgumentList.Add(prefix);
        var clock = Stopwatch.StartNew();
        using Process process = Process.Start(start) ?? throw new CliException($"could not start {etcdctl}");
        try
        {
            // Drain both pipes (like `> /dev/null`), or a large reply would block etcdctl.
            Task drainOut = process.StandardOutput.BaseStream.CopyToAsync(Stream.Null, cancellationToken);
            Task<string> errors = process.StandardError.ReadToEndAsync(cancellationToken);
            await process.WaitForExitAsync(cancellationToken);
            TimeSpan elapsed = clock.Elapsed;
            await drainOut;
            string error = await errors;
            if (process.ExitCode != 0)
            {
                throw new CliException($"etcdctl get --prefix {prefix} failed ({process.ExitCode}): {error.Trim()}");
            }

            return elapsed;
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
    }
}
