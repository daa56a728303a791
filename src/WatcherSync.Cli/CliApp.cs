using System.CommandLine;
using System.CommandLine.Parsing;
using WatcherSync.Cli.Commands;

namespace WatcherSync.Cli;

/// <summary>
/// The whole tool behind one method, so tests run it in-process: parse, report command-line mistakes in one line,
/// run the command, and turn failures into one line and an exit code.
/// </summary>
internal static class CliApp
{
    public const string Name = "watchersync";

    /// <summary>Runs the tool.</summary>
    /// <param name="args">The command line, without the program name.</param>
    /// <param name="console">Where to write.</param>
    /// <param name="cancellationToken">Cancelled on Ctrl+C: commands finish cleanly.</param>
    /// <returns>The process exit code (see <see cref="ExitCodes"/>).</returns>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(console);

        var verbose = new Option<bool>("--verbose")
        {
            Description = "Print the full exception (with its stack trace) when a command fails.",
            Recursive = true,
        };
        var root = new RootCommand("Keeps a picture of a key-value datastore correct: a demo on the embedded datastore, and a mirror of etcd.")
        {
            verbose,
        };
        foreach (Command command in CreateCommands(console))
        {
            root.Add(command);
        }

        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            ReportParseErrors(parse, console.Error);
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            EnableDefaultExceptionHandler = false,

            // Program.Main owns Ctrl+C (first press: finish cleanly; second: end the process).
            ProcessTerminationTimeout = null,
        };
        try
        {
            return await parse.InvokeAsync(invocation, cancellationToken);
        }
#pragma warning disable CA1031 // The tool's last line of defence: every failure becomes one line and an exit code.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            return CliErrors.Report(ex, console.Error, parse.GetValue(verbose), cancellationToken.IsCancellationRequested);
        }
    }

    private static IEnumerable<Command> CreateCommands(CliConsole console)
    {
        yield return DemoCommand.Create(console);
        yield return MirrorCommand.Create(console);
        yield return BenchEtcdCommand.Create(console);
        yield return RelayCommand.Create(console);
    }

    private static void ReportParseErrors(ParseResult parse, TextWriter stderr)
    {
        var path = new List<string>();
        for (SymbolResult? result = parse.CommandResult; result is CommandResult command; result = command.Parent)
        {
            if (command.Parent is not null)
            {
                path.Insert(0, command.Command.Name);
            }
        }

        string usage = string.Join(' ', [Name, .. path, "--help"]);
        string errors = string.Join(" ", parse.Errors.Select(e => e.Message.Trim()).Distinct(StringComparer.Ordinal));
        stderr.WriteLine($"{Name}: {errors} (see '{usage}')");
    }
}
