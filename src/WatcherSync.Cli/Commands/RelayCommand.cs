using System.CommandLine;
using WatcherSync.Cli.Relay;

namespace WatcherSync.Cli.Commands;

/// <summary><c>watchersync relay</c>: serve a feed over an etcd prefix (or the demo's embedded store) to relay clients.</summary>
internal static class RelayCommand
{
    public const string TokenVariable = "WATCHERSYNC_RELAY_TOKEN";

    public static Command Create(CliConsole console)
    {
        var connection = new EtcdConnectionOptions();
        var listen = OptionRules.ListenAddress(
            "--listen",
            "url",
            "Address to serve on: http://host:port (h2c) or https://host:port (with --tls-cert and --tls-key).",
            "http://127.0.0.1:5473");
        var feed = new Option<string>("--feed")
        {
            Description = "Name of the feed clients ask for.",
            HelpName = "name",
            DefaultValueFactory = _ => "default",
        };
        var prefixes = new Option<string[]>("--prefix")
        {
            Description = "Key prefix the feed covers (repeat for several, one resource type each). Default: / (or the demo's prefixes with --demo).",
            HelpName = "prefix",
            AllowMultipleArgumentsPerToken = false,
        };
        var demo = new Option<bool>("--demo")
        {
            Description = "Serve the demo's embedded store, with writers changing it, instead of etcd.",
        };
        var demoKeys = OptionRules.Integer("--demo-keys", "count", "Keys in the demo store (with --demo).", 5000, 1, 10_000_000);
        var tokens = new Option<string[]>("--token")
        {
            Description = $"Bearer token clients may present (repeat for several; default: the {TokenVariable} environment variable).",
            HelpName = "token",
        };
        var anonymous = new Option<bool>("--allow-anonymous")
        {
            Description = "Serve clients that present no credentials. Without it, a token or a client certificate is required.",
        };
        var tlsCert = new Option<FileInfo?>("--tls-cert") { Description = "PEM file of the relay's certificate (https --listen).", HelpName = "file" };
        var tlsKey = new Option<FileInfo?>("--tls-key") { Description = "PEM file of the relay certificate's private key.", HelpName = "file" };
        var clientCa = new Option<FileInfo?>("--client-ca") { Description = "PEM file of the CAs whose client certificates are accepted as credentials.", HelpName = "file" };
        var maxConnections = OptionRules.Integer("--max-connections", "count", "Most clients served at once; past it new clients are refused and go elsewhere.", 10_000, 1);

        var command = new Command("relay", "Serve a feed to relay clients (watchersync mirror --relay, RelaySyncer): one list and watch of the datastore, fanned out over gRPC.")
        {
            listen, feed, prefixes, demo, demoKeys, tokens, anonymous, tlsCert, tlsKey, clientCa, maxConnections,
        };
        connection.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetValue(demo))
            {
                connection.RefuseWith(result, "--demo");
            }
            else if (result.GetResult(demoKeys) is { Implicit: false })
            {
                result.AddError("--demo-keys goes with --demo.");
            }

            if ((result.GetValue(tlsCert) is null) != (result.GetValue(tlsKey) is null))
            {
                result.AddError("--tls-cert and --tls-key go together: give both or neither.");
            }

            // Read the text: the value of a --listen that did not parse cannot be read (its parser has said why).
            bool https = result.GetResult(listen)?.Tokens is [{ } given, ..] && given.Value.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
            if (!https && result.GetValue(tlsCert) is not null)
            {
                result.AddError("--tls-cert and --tls-key serve TLS: give an https:// --listen address with them.");
            }

            if (result.GetValue(tokens) is { } givenTokens && givenTokens.Any(string.IsNullOrWhiteSpace))
            {
                result.AddError("--token must not be empty: an empty bearer token is no credential.");
            }

            if (https && result.GetValue(tlsCert) is null)
            {
                result.AddError("An https --listen address needs --tls-cert and --tls-key.");
            }

            if (!https && result.GetValue(clientCa) is not null)
            {
                // Plain h2c has no TLS handshake: no client can present a certificate, so --client-ca would admit no one.
                result.AddError("--client-ca checks the certificates clients present in TLS: give an https:// --listen address (with --tls-cert and --tls-key).");
            }
        });
        command.SetAction(async (parse, cancellationToken) =>
        {
            string[] given = parse.GetValue(tokens) ?? [];
            if (given.Length == 0 && Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } fromEnvironment)
            {
                given = [fromEnvironment];
            }

            var settings = new RelaySettings
            {
                Listen = parse.GetValue(listen)!,
                Feed = parse.GetValue(feed) ?? "default",
                Prefixes = parse.GetValue(prefixes) ?? [],
                Demo = parse.GetValue(demo),
                DemoKeys = parse.GetValue(demoKeys),
                Tokens = given,
                AllowAnonymous = parse.GetValue(anonymous),
                TlsCertificate = parse.GetValue(tlsCert),
                TlsKey = parse.GetValue(tlsKey),
                ClientCertificateAuthorities = parse.GetValue(clientCa),
                MaxConnections = parse.GetValue(maxConnections),
            };
            var run = new RelayRun(settings, settings.Demo ? null : connection.Create(parse), console);
            return await run.RunAsync(cancellationToken);
        });
        return command;
    }
}
