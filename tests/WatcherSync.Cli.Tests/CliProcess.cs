using System.Diagnostics;
using WatcherSync.Testing;

namespace WatcherSync.Cli.Tests;

/// <summary>Runs the tool as a child process (<c>dotnet exec WatcherSync.Cli.dll</c>), as a user's shell does.</summary>
internal static class CliProcess
{
    public static string Tool => Path.Combine(AppContext.BaseDirectory, "WatcherSync.Cli.dll");

    /// <summary>Runs the tool to its end within <paramref name="timeout"/>; kills it if it does not end.</summary>
    public static async Task<CliResult> RunAsync(TimeSpan timeout, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Tool);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        try
        {
            await Eventually.Within(process.WaitForExitAsync(), $"watchersync {string.Join(' ', args)} ends", timeout);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        return new CliResult(process.ExitCode, await output, await error);
    }
}
