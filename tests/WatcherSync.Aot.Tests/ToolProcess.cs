using System.Diagnostics;
using System.Text;
using WatcherSync.Testing;

namespace WatcherSync.Aot.Tests;

/// <summary>
/// The native watchersync binary running as a child process, its standard output and error kept apart (JSON on stdout,
/// status lines on stderr). Stopped with SIGTERM, as a service manager stops it.
/// </summary>
/// <remarks>Invariant: <see cref="_out"/> and <see cref="_error"/> are appended to only under their own lock, by the process's reader callbacks.</remarks>
internal sealed class ToolProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new();
    private readonly StringBuilder _error = new();

    private ToolProcess(Process process)
    {
        _process = process;
    }

    /// <summary>Gets what the tool wrote to stdout so far.</summary>
    public string Out => Read(_out);

    /// <summary>Gets what the tool wrote to stderr so far.</summary>
    public string Error => Read(_error);

    /// <summary>Gets the exit code (once <see cref="WaitAsync"/> returned).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Gets a value indicating whether the tool has ended.</summary>
    public bool HasExited => _process.HasExited;

    public static ToolProcess Start(string binary, params string[] arguments)
    {
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = start };
        var tool = new ToolProcess(process);
        process.OutputDataReceived += (_, e) => Append(tool._out, e.Data);
        process.ErrorDataReceived += (_, e) => Append(tool._error, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return tool;
    }

    /// <summary>Runs the tool to its end within <paramref name="timeout"/>.</summary>
    public static async Task<ToolProcess> RunAsync(string binary, TimeSpan timeout, params string[] arguments)
    {
        ToolProcess tool = Start(binary, arguments);
        await tool.WaitAsync(timeout, $"watchersync {string.Join(' ', arguments)} ends");
        return tool;
    }

    /// <summary>Waits for the tool to end; kills it and fails if it does not within <paramref name="timeout"/>.</summary>
    public async Task WaitAsync(TimeSpan timeout, string because)
    {
        try
        {
            await Eventually.Within(_process.WaitForExitAsync(), because, timeout);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{because}: it did not within {timeout.TotalSeconds:0} s; stdout:{Environment.NewLine}{Out}{Environment.NewLine}stderr:{Environment.NewLine}{Error}");
        }

        // The readers may still hold the last lines: this overload returns once both streams reached their end.
        await _process.WaitForExitAsync();
    }

    /// <summary>Asks the tool to finish cleanly (SIGTERM), as Ctrl+C does.</summary>
    public async Task TerminateAsync()
    {
        if (!_process.HasExited)
        {
            (int exit, string output) = await ChildProcess.RunAsync("kill", Directory.GetCurrentDirectory(), TimeSpan.FromSeconds(10), new Dictionary<string, string>(), "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (exit != 0 && !_process.HasExited)
            {
                throw new InvalidOperationException($"kill -TERM {_process.Id} failed: {output}");
            }
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (text)
        {
            text.AppendLine(line);
        }
    }

    private static string Read(StringBuilder text)
    {
        lock (text)
        {
            return text.ToString();
        }
    }
}
