using System.CommandLine;
using WatcherSync.Cli.Bench;

namespace WatcherSync.Cli.Commands;

/// <summary><c>watchersync bench-etcd</c>: load keys into etcd and time the mirror to InSync against etcdctl.</summary>
internal static class BenchEtcdCommand
{
    public static Command Create(CliConsole console)
    {
        var defaults = new BenchSettings();
        var connection = new EtcdConnectionOptions();
        var prefix = new Option<string>("--prefix")
        {
            Description = "Prefix to load and mirror. Its keys are replaced when --keys is not 0.",
            HelpName = "prefix",
            DefaultValueFactory = _ => BenchSettings.DefaultPrefix,
        };
        var keys = OptionRules.Integer("--keys", "count", "Keys to load first (the prefix is cleared); 0 times what is there.", defaults.Keys, 0, maximum: 50_000_000);
        var valueSize = OptionRules.Integer("--value-size", "bytes", "Size of each loaded value.", defaults.ValueSize, 0, maximum: 1 << 20);
        var rounds = OptionRules.Integer("--rounds", "count", "Timed mirrors (the best is reported).", defaults.Rounds, 1, maximum: 100);
        var noEtcdctl = new Option<bool>("--no-etcdctl")
        {
            Description = "Do not time etcdctl get --prefix for comparison.",
        };

        var json = new Option<bool>("--json")
        {
            Description = "Print the figures as one JSON document on stdout; the text lines and progress go to stderr.",
        };

        var command = new Command("bench-etcd", "Load keys into etcd and time a fresh mirror from start to InSync, compared with etcdctl get --prefix.")
        {
            prefix, keys, valueSize, rounds, noEtcdctl, json,
        };
        connection.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var settings = new BenchSettings
            {
                Prefix = parse.GetValue(prefix) ?? BenchSettings.DefaultPrefix,
                Keys = parse.GetValue(keys),
                ValueSize = parse.GetValue(valueSize),
                Rounds = parse.GetValue(rounds),
                CompareWithEtcdctl = !parse.GetValue(noEtcdctl),
            };
            if (settings.Keys > 0 && settings.Prefix.Length == 0)
            {
                throw new CliException("--prefix must not be empty when loading keys: the prefix is cleared first.") { ExitCode = ExitCodes.Usage };
            }

            bool asJson = parse.GetValue(json);
            var run = new BenchRun(connection.Create(parse), connection.Etcdctl(parse), settings, asJson ? console.Error : console.Out, console.Error, asJson ? console.Out : null);
            return await run.RunAsync(cancellationToken);
        });
        return command;
    }
}
