using System.CommandLine;
using WatcherSync.Cli.Mirror;

namespace WatcherSync.Cli.Commands;

/// <summary><c>watchersync mirror</c>: list-then-watch a prefix of a real etcd and print what changes.</summary>
internal static class MirrorCommand
{
    public static Command Create(CliConsole console)
    {
        var connection = new EtcdConnectionOptions();
        var prefix = new Option<string>("--prefix")
        {
            Description = "Key prefix to mirror; empty mirrors every key.",
            HelpName = "prefix",
            DefaultValueFactory = _ => string.Empty,
        };
        var table = new Option<bool>("--table")
        {
            Description = "Show a live table of the latest changes instead of JSON lines.",
        };
        var count = new Option<bool>("--count")
        {
            Description = "Print only the number of keys once the mirror is in sync, then exit.",
        };
        var timeout = OptionRules.Number(
            "--timeout",
            "seconds",
            "How long the first full picture may take before giving up; 0 waits for ever.",
            60,
            0);

        var relay = new Option<string?>("--relay")
        {
            Description = "Take the picture from watchersync relays (URLs, comma-separated; failover between them) instead of from etcd.",
            HelpName = "urls",
        };
        var feed = new Option<string>("--feed")
        {
            Description = "The relay feed to mirror (with --relay).",
            HelpName = "name",
            DefaultValueFactory = _ => "default",
        };
        var token = new Option<string?>("--token")
        {
            Description = $"Bearer token for the relay (with --relay; default: the {RelayCommand.TokenVariable} environment variable).",
            HelpName = "token",
        };

        var command = new Command("mirror", "Mirror a prefix of etcd (or a relay feed with --relay): list, then watch from that revision, printing each update as a JSON line (key, type, revision, value); status changes go to stderr.")
        {
            prefix, table, count, timeout, relay, feed, token,
        };
        connection.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetValue(table) && result.GetValue(count))
            {
                result.AddError("--table and --count do not go together.");
            }

            if (result.GetResult(relay) is { Implicit: false } relayResult)
            {
                // --cacert, --cert and --key also serve the relay's TLS (docs/cli.md).
                connection.RefuseWith(result, "--relay", tls: false);

                // Read from its tokens: GetValue throws (outside the usage-error path) when the option was repeated.
                if (relayResult.Tokens.Count > 1)
                {
                    result.AddError("--relay takes the relays' URLs once, comma-separated; it was given more than once.");
                }
                else if (string.IsNullOrWhiteSpace(relayResult.Tokens.FirstOrDefault()?.Value))
                {
                    result.AddError("--relay needs the relays' URLs (comma-separated); it was given empty.");
                }
            }
            else
            {
                foreach (Option relayOnly in new Option[] { feed, token }.Where(o => result.GetResult(o) is { Implicit: false }))
                {
                    result.AddError($"{relayOnly.Name} goes with --relay.");
                }
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            MirrorMode mode = parse.GetValue(count) ? MirrorMode.Count : parse.GetValue(table) ? MirrorMode.Table : MirrorMode.JsonLines;
            double seconds = parse.GetValue(timeout);
            RelayTarget? target = parse.GetValue(relay) is { Length: > 0 } urls
                ? RelayTarget.Parse(urls, parse.GetValue(feed) ?? "default", parse.GetValue(token) ?? Environment.GetEnvironmentVariable(RelayCommand.TokenVariable))
                : null;
            var run = new MirrorRun(
                connection.Create(parse),
                parse.GetValue(prefix) ?? string.Empty,
                mode,
                seconds > 0 ? TimeSpan.FromSeconds(seconds) : null,
                console,
                target);
            return await run.RunAsync(cancellationToken);
        });
        return command;
    }
}
