using WatcherSync.Testing;

namespace WatcherSync.Cli.Tests;

/// <summary>Runs the tool in-process with captured standard output and error (never a terminal).</summary>
internal sealed class CliRunner
{
    private readonly StringWriter _out = new();
    private readonly StringWriter _error = new();
    private readonly TextWriter _syncOut;
    private readonly TextWriter _syncError;

    private CliRunner(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        // The command writes from its own threads while the test reads. A synchronized writer locks on itself
        // (its methods are [MethodImpl(Synchronized)]), so reads lock the same object.
        _syncOut = TextWriter.Synchronized(_out);
        _syncError = TextWriter.Synchronized(_error);
        var console = new CliConsole(_syncOut, _syncError, isTerminal: false);
        Completion = Task.Run(() => CliApp.RunAsync(args, console, cancellationToken), CancellationToken.None);
    }

    public Task<int> Completion { get; }

    public string Out
    {
        get
        {
            lock (_syncOut)
            {
                return _out.ToString();
            }
        }
    }

    public string Error
    {
        get
        {
            lock (_syncError)
            {
                return _error.ToString();
            }
        }
    }

    /// <summary>Starts the tool; the caller waits on <see cref="Completion"/> and may cancel (Ctrl+C).</summary>
    public static CliRunner Start(CancellationToken cancellationToken, params string[] args) => new(args, cancellationToken);

    /// <summary>Runs the tool to its end (within <paramref name="timeout"/>).</summary>
    public static async Task<CliResult> RunAsync(TimeSpan timeout, params string[] args)
    {
        CliRunner runner = Start(CancellationToken.None, args);
        int exitCode = await Eventually.Within(runner.Completion, $"watchersync {string.Join(' ', args)} ends", timeout);
        return new CliResult(exitCode, runner.Out, runner.Error);
    }
}

/// <summary>The exit code and captured output of one run.</summary>
internal sealed record CliResult(int ExitCode, string Out, string Error)
{
    public string[] ErrorLines => Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
