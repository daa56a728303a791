using System.CommandLine;
using WatcherSync.Cli.Demo;

namespace WatcherSync.Cli.Commands;

/// <summary><c>watchersync demo</c>: the library doing its job on the embedded datastore, with no setup.</summary>
internal static class DemoCommand
{
    public static Command Create(CliConsole console)
    {
        var defaults = new DemoSettings();
        var keys = new Option<int>("--keys")
        {
            Description = "Keys loaded before the syncer starts (the writers then create and delete around this number).",
            DefaultValueFactory = _ => defaults.Keys,
        }.AtLeast(1);
        var writers = new Option<int>("--writers")
        {
            Description = "Concurrent writers creating, updating and deleting keys, with bursts on hot keys.",
            DefaultValueFactory = _ => defaults.Writers,
        }.AtLeast(1);
        var duration = new Option<double>("--duration")
        {
            Description = "Seconds the writers run before the drain and the check; 0 runs until Ctrl+C.",
            DefaultValueFactory = _ => defaults.Duration?.TotalSeconds ?? 0,
        }.AtLeast(0);
        var sinkDelay = new Option<int>("--sink-delay")
        {
            Description = "Milliseconds the slow sink spends on each batch it is handed.",
            DefaultValueFactory = _ => (int)defaults.SinkDelay.TotalMilliseconds,
        }.AtLeast(0);
        var compactEvery = new Option<double>("--compact-every")
        {
            Description = "Every N seconds, stall the syncer's consumer, write a burst and compact the store, so lagging watches must relist; 0 = never.",
            DefaultValueFactory = _ => 0,
        }.AtLeast(0);
        var history = new Option<int>("--history")
        {
            Description = "Events the store keeps for watches; a watch that falls further behind must relist (small values force relists).",
            DefaultValueFactory = _ => defaults.HistoryCapacity,
        }.AtLeast(16);
        var seed = new Option<int>("--seed")
        {
            Description = "Seed of the writers' random choices.",
            DefaultValueFactory = _ => defaults.Seed,
        };

        var command = new Command("demo", "Run the embedded datastore with writers, a syncer, a dedupe buffer, a slow sink and a follower, then check the sink's picture equals the datastore.")
        {
            keys, writers, duration, sinkDelay, compactEvery, history, seed,
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
            return await DemoRun.RunAsync(settings, console, cancellationToken);
        });
        return command;
    }
}
