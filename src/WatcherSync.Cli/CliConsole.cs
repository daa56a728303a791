using System.Text;
using Spectre.Console;

namespace WatcherSync.Cli;

/// <summary>Where a command writes: its standard output and error, and whether the output is an interactive terminal.</summary>
/// <remarks>Colours and live redraws are used only when <see cref="IsTerminal"/> is true, so output fits pipes and files.</remarks>
internal sealed class CliConsole
{
    private const int PipeWidth = 400;

    public CliConsole(TextWriter output, TextWriter error, bool isTerminal)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        Out = output;
        Error = error;
        IsTerminal = isTerminal;
    }

    /// <summary>Gets the standard output: results, progress and summaries.</summary>
    public TextWriter Out { get; }

    /// <summary>Gets the standard error: status changes, warnings and errors.</summary>
    public TextWriter Error { get; }

    /// <summary>Gets a value indicating whether <see cref="Out"/> is an interactive terminal (live displays allowed).</summary>
    public bool IsTerminal { get; }

    /// <summary>
    /// The process's console; a terminal only when stdout is not redirected and TERM is not "dumb". When stdout is a
    /// pipe or a file, <paramref name="onBrokenPipe"/> is called once its reader has gone (EPIPE), as a Unix tool ends.
    /// </summary>
    public static CliConsole FromProcess(Action onBrokenPipe)
    {
        bool terminal = !Console.IsOutputRedirected
            && !string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);
        TextWriter output = Console.IsOutputRedirected && BrokenPipeStream.TryOpen(onBrokenPipe) is { } pipe
            ? new StreamWriter(pipe, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { AutoFlush = true }
            : Console.Out;
        return new CliConsole(output, Console.Error, terminal);
    }

    /// <summary>A Spectre console on <see cref="Out"/>: colours and cursor movement only on a terminal, never when NO_COLOR is set.</summary>
    public IAnsiConsole CreateAnsiConsole()
    {
        bool colours = IsTerminal && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));
        IAnsiConsole console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(Out),
            Ansi = IsTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = colours ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = IsTerminal ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!IsTerminal)
        {
            // A pipe or file has no width: do not wrap tables at Spectre's default of 80 columns.
            console.Profile.Width = PipeWidth;
        }

        return console;
    }
}
