using System.Globalization;
using Spectre.Console;

namespace WatcherSync.Cli.Demo;

/// <summary>
/// Shows the demo as it runs: a live table redrawn in place on a terminal, or one plain line per interval on a pipe
/// or file (no colours, no cursor movement).
/// </summary>
internal static class DemoProgress
{
    public static Task RunAsync(CliConsole console, Func<DemoSnapshot> snapshot, TimeSpan interval, CancellationToken cancellationToken) =>
        console.IsTerminal
            ? RunLiveAsync(console, snapshot, interval / 4, cancellationToken)
            : RunPlainAsync(console.Out, snapshot, interval, cancellationToken);

    public static string FormatLine(DemoSnapshot s) => string.Create(
        CultureInfo.InvariantCulture,
        $"[{s.Elapsed.TotalSeconds,5:0.0}s] {s.Phase,-8} status={s.Status} keys={s.SyncerKeys:N0} writes={s.Writes:N0} in={s.UpdatesIn:N0} out={s.UpdatesOut:N0} coalesced={s.Coalesced:N0} queue={s.QueueLength:N0} sink={s.SinkKeys:N0} relists={s.Relists:N0} follower={s.FollowerView:N0}");

    private static async Task RunPlainAsync(TextWriter output, Func<DemoSnapshot> snapshot, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await output.WriteLineAsync(FormatLine(snapshot()));
                await output.FlushAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private static async Task RunLiveAsync(CliConsole console, Func<DemoSnapshot> snapshot, TimeSpan interval, CancellationToken cancellationToken)
    {
        IAnsiConsole ansi = console.CreateAnsiConsole();
        Table table = CreateTable();
        await ansi.Live(table).AutoClear(false).StartAsync(async context =>
        {
            using var timer = new PeriodicTimer(interval);
            try
            {
                do
                {
                    Fill(table, snapshot());
                    context.Refresh();
                }
                while (await timer.WaitForNextTickAsync(cancellationToken));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }

            Fill(table, snapshot());
            context.Refresh();
        });
    }

    private static Table CreateTable() =>
        new Table()
            .Border(TableBorder.Rounded)
            .Title("[bold]watchersync demo[/]")
            .AddColumn(new TableColumn("[grey]what[/]"))
            .AddColumn(new TableColumn("[grey]now[/]").RightAligned());

    private static void Fill(Table table, DemoSnapshot s)
    {
        table.Rows.Clear();
        string status = StatusMarkup.For(s.Status);
        Row(table, "elapsed", $"{s.Elapsed.TotalSeconds:0.0} s ({s.Phase})");
        table.AddRow("syncer status", status);
        Row(table, "datastore", $"{s.StoreKeys:N0} keys, revision {s.Revision:N0}");
        Row(table, "syncer keys (watched)", $"{s.SyncerKeys:N0}");
        Row(table, "writes", $"{s.Writes:N0}");
        Row(table, "updates in (syncer → buffer)", $"{s.UpdatesIn:N0}");
        Row(table, "updates out (buffer → sink)", $"{s.UpdatesOut:N0}");
        Row(table, "coalesced", $"{s.Coalesced:N0}");
        Row(table, "queue depth", $"{s.QueueLength:N0}");
        Row(table, "sink keys", $"{s.SinkKeys:N0}");
        Row(table, "relists", $"{s.Relists:N0}");
        Row(table, "follower (failed pods)", $"{s.FollowerView:N0}");
    }

    private static void Row(Table table, string what, FormattableString value) =>
        table.AddRow(Markup.Escape(what), Markup.Escape(value.ToString(CultureInfo.InvariantCulture)));
}
