using System.CommandLine;
using WatcherSync.Cli.Demo;

namespace WatcherSync.Cli.Commands;

/// <summary><c>watchersync demo</c>: the library doing its job on the embedded datastore, with no setup.</summary>
internal static class DemoCommand
{
    public static Command Create(CliConsole console)
    {
        var defaults = new DemoSettings();
        var keys = OptionRules.Integer(
            "--keys",
            "count",
            "Keys loaded before the syncer starts (the writers then create and delete around this number).",
            defaults.Keys,
            1,
            maximum: 10_000_000);
        var writers = OptionRules.Integer(
            "--writers",
            "count",
            "Concurrent writers creating, updating and deleting keys, with bursts on hot keys.",
            defaults.Writers,
            1,
            maximum: 256);
        var duration = OptionRules.Number(
            "--duration",
            "seconds",
            "Seconds the writers run before the drain and the check; 0 runs until Ctrl+C.",
            defaults.Duration?.TotalSeconds ?? 0,
            0);
        var sinkDelay = OptionRules.Integer(
            "--sink-delay",
            "ms",
            "Milliseconds the slow sink spends on each batch it is handed.",
            (int)defaults.SinkDelay.TotalMilliseconds,
            0);
        var compactEvery = OptionRules.Number(
            "--compact-every",
            "seconds",
            "Every N seconds, stall the syncer's consumer, write a burst and compact the store, so lagging watches must relist; 0 = never.",
            0,
            0);
        var history = OptionRules.Integer(
            "--history",
            "events",
            "Events the store keeps for watches; a watch that falls further behind must relist (small values force relists).",
            defaults.HistoryCapacity,
            16);
        var seed = OptionRules.Integer("--seed", "n", "Seed of the writers' random choices.", defaults.Seed, int.MinValue);
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON document on stdout; the summary and progress go to stderr." };

        var command = new Command("demo", "Run the embedded datastore with writers, a syncer, a dedupe buffer, a slow sink and a follower, then check the sink's picture equals the datastore.")
        {
            keys, writers, duration, sinkDelay, compactEvery, history, seed, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            double seconds = parse.GetValue(duration);
            double compact = parse.GetValue(compactEvery);
            var settings = new DemoSettings
            {
                Keys = parse.GetValue(keys),
                Writers = parse.GetValue(writers),
                Duration = seconds > 0 ? TimeSpan.FromSeconds(seconds) : null,
                SinkDelay = TimeSpan.FromMilliseconds(parse.GetValue(sinkDelay)),
                CompactEvery = compact > 0 ? TimeSpan.FromSeconds(compact) : null,
                HistoryCapacity = parse.GetValue(history),
                Seed = parse.GetValue(seed),
            };
            // With --json, stdout carries nothing but the document: the human text goes to stderr.
            return parse.GetValue(json)
                ? await DemoRun.RunAsync(settings, new CliConsole(console.Error, console.Error, isTerminal: false), console.Out, cancellationToken)
                : await DemoRun.RunAsync(settings, console, null, cancellationToken);
        });
        return command;
    }
}
