using System.Runtime.InteropServices;

namespace WatcherSync.Cli;

/// <summary>The process entry point: wires the console and Ctrl+C to <see cref="CliApp"/>.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (BrokenPipeStream.StandardOutputIsClosed)
        {
            // Run with `>&-`: every write would fail with EBADF, which .NET reports as "Access to the path is denied".
            await Console.Error.WriteLineAsync("watchersync: standard output is closed, so nothing can be printed; redirect it (for example > /dev/null) instead of closing it");
            return ExitCodes.Failure;
        }

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
            // A closed stdout pipe (`watchersync mirror | head -1`) ends the command as Ctrl+C does; the callbacks of the
            // token run on the thread pool, not on the writer (which may be a syncer callback).
            CliConsole console = CliConsole.FromProcess(onBrokenPipe: () => _ = interrupted.CancelAsync());
            int exitCode = await CliApp.RunAsync(args, console, interrupted.Token);
            await console.Out.FlushAsync(CancellationToken.None);
            return exitCode;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
