using System.Runtime.InteropServices;

namespace WatcherSync.Cli;

/// <summary>The process entry point: wires the console and Ctrl+C to <see cref="CliApp"/>.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var interrupted = new CancellationTokenSource();

        // The first Ctrl+C (or SIGTERM) asks the command to finish cleanly; a second one ends the process at once.
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (!interrupted.IsCancellationRequested)
            {
                e.Cancel = true;
                interrupted.Cancel();
            }
        };
        Console.CancelKeyPress += onCancel;
        using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            interrupted.Cancel();
        });
        try
        {
            return await CliApp.RunAsync(args, CliConsole.FromProcess(), interrupted.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
