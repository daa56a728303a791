using System.Globalization;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace WatcherSync.Cli.Mirror;

/// <summary>
/// The <c>--table</c> view: the picture's size and status, and the latest changes. Redrawn in place on a terminal;
/// on a pipe or file it is printed as plain text once the picture is first complete and once more at the end.
/// </summary>
internal static class MirrorTable
{
    private const int ValueWidth = 48;

    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(250);

    public static async Task RunAsync(CliConsole console, MirrorSink sink, string source, CancellationToken cancellationToken)
    {
        IAnsiConsole ansi = console.CreateAnsiConsole();
        if (!console.IsTerminal)
        {
            try
            {
                await sink.FirstInSync.WaitAsync(cancellationToken);
                ansi.Write(Render(sink, source));
                await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }

            ansi.Write(Render(sink, source));
            return;
        }

        await ansi.Live(Render(sink, source)).AutoClear(false).StartAsync(async context =>
        {
            using var timer = new PeriodicTimer(Refresh);
            try
            {
                while (await timer.WaitForNextTickAsync(cancellationToken))
                {
                    context.UpdateTarget(Render(sink, source));
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }

            context.UpdateTarget(Render(sink, source));
        });
    }

    private static IRenderable Render(MirrorSink sink, string source)
    {
        string status = StatusMarkup.For(sink.Status);
        var table = new Table()
            .Border(TableBorder.Rounded)
            .Title(string.Create(CultureInfo.InvariantCulture, $"{Markup.Escape(source)}: {status}, {sink.Count:N0} keys, {sink.Updates:N0} updates"))
            .AddColumn(new TableColumn("at").RightAligned())
            .AddColumn("type")
            .AddColumn("key")
            .AddColumn(new TableColumn("revision").RightAligned())
            .AddColumn("value");
        foreach ((TimeSpan at, Update update) in sink.Recent())
        {
            table.AddRow(
                string.Create(CultureInfo.InvariantCulture, $"{at.TotalSeconds:0.000}s"),
                UpdateJson.TypeName(update.UpdateType),
                Markup.Escape(update.KVPair.Key.DefaultPath),
                Markup.Escape(update.KVPair.Revision ?? string.Empty),
                Markup.Escape(update.UpdateType == UpdateType.Deleted ? string.Empty : UpdateJson.Preview(update.KVPair.Value, ValueWidth)));
        }

        if (table.Rows.Count == 0)
        {
            table.Caption("no updates yet");
        }

        return table;
    }
}
