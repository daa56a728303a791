using System.CommandLine.Parsing;
using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using WatcherSync.Cli.Bench;
using WatcherSync.Etcd;

namespace WatcherSync.Cli.Commands;

/// <summary>
/// The flags that say how to reach etcd, shared by the etcd commands: endpoints, username and password, and TLS
/// (CA bundle, client certificate and key, as PEM files, like etcdctl's).
/// </summary>
internal sealed class EtcdConnectionOptions
{
    public const string DefaultEndpoint = "http://127.0.0.1:2379";

    private readonly Option<string> _endpoints = new("--endpoints")
    {
        Description = "etcd client URLs, comma-separated; requests fail over between them.",
        HelpName = "urls",
        DefaultValueFactory = _ => DefaultEndpoint,
    };

    private readonly Option<string?> _user = new("--user")
    {
        Description = "Username for etcd auth, or username:password as etcdctl takes it.",
        HelpName = "name",
    };

    private readonly Option<string?> _password = new("--password")
    {
        Description = "Password for --user (default: the ETCDCTL_PASSWORD environment variable).",
        HelpName = "password",
    };

    private readonly Option<FileInfo?> _caCert = new("--cacert")
    {
        Description = "PEM file of the CAs that sign the servers' certificates (https endpoints).",
        HelpName = "file",
    };

    private readonly Option<FileInfo?> _cert = new("--cert")
    {
        Description = "PEM file of the client certificate (with --key).",
        HelpName = "file",
    };

    private readonly Option<FileInfo?> _key = new("--key")
    {
        Description = "PEM file of the client certificate's private key (with --cert).",
        HelpName = "file",
    };

    private readonly Option<double> _requestTimeout = OptionRules.Number(
        "--request-timeout",
        "seconds",
        "Deadline of one request to one etcd member, connection included.",
        10,
        0.1);

    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Add(_endpoints);
        command.Add(_user);
        command.Add(_password);
        command.Add(_caCert);
        command.Add(_cert);
        command.Add(_key);
        command.Add(_requestTimeout);
        command.Validators.Add(result =>
        {
            if ((result.GetValue(_cert) is null) != (result.GetValue(_key) is null))
            {
                result.AddError("--cert and --key go together: give both or neither.");
            }
        });
    }

    /// <summary>Gets the names of the etcd connection options given on the command line (not left to their defaults).</summary>
    /// <param name="result">The command's parse result.</param>
    /// <param name="tls">Whether to count the TLS options (--cacert, --cert, --key), which also serve a relay's TLS.</param>
    public IEnumerable<string> Given(CommandResult result, bool tls = true)
    {
        ArgumentNullException.ThrowIfNull(result);
        Option[] options = tls ? [_endpoints, _user, _password, _caCert, _cert, _key, _requestTimeout] : [_endpoints, _user, _password, _requestTimeout];
        return options.Where(o => result.GetResult(o) is { Implicit: false }).Select(o => o.Name);
    }

    /// <summary>Adds the error of etcd connection options given where etcd is not used (<paramref name="instead"/> names the source used).</summary>
    /// <param name="result">The command's parse result.</param>
    /// <param name="instead">The source used instead of etcd, for the message.</param>
    /// <param name="tls">Whether the TLS options count too (false where they serve the other source's TLS).</param>
    public void RefuseWith(CommandResult result, string instead, bool tls = true)
    {
        if (Given(result, tls).ToArray() is { Length: > 0 } given)
        {
            result.AddError($"{string.Join(", ", given)} {(given.Length == 1 ? "is an etcd option" : "are etcd options")}, and {instead} does not use etcd.");
        }
    }

    /// <summary>The endpoints as given, for messages.</summary>
    public string Endpoints(ParseResult parse) => parse.GetValue(_endpoints) ?? DefaultEndpoint;

    /// <summary>
    /// The same connection for etcdctl: endpoints and TLS files as arguments, credentials in its environment
    /// (ETCDCTL_USER, ETCDCTL_PASSWORD) so that they never show on a process's command line.
    /// </summary>
    public EtcdctlConnection Etcdctl(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var arguments = new List<string> { "--endpoints", Endpoints(parse) };
        Add(arguments, "--cacert", parse.GetValue(_caCert)?.FullName);
        Add(arguments, "--cert", parse.GetValue(_cert)?.FullName);
        Add(arguments, "--key", parse.GetValue(_key)?.FullName);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (parse.GetValue(_user) is { Length: > 0 } user)
        {
            environment["ETCDCTL_USER"] = user;
        }

        if (parse.GetValue(_password) is { Length: > 0 } password)
        {
            environment["ETCDCTL_PASSWORD"] = password;
        }

        return new EtcdctlConnection(arguments, environment);

        static void Add(List<string> arguments, string flag, string? value)
        {
            if (value is not null)
            {
                arguments.Add(flag);
                arguments.Add(value);
            }
        }
    }

    /// <summary>Client options from the flags; certificate files are read here.</summary>
    /// <exception cref="CliException">A file cannot be read, or the options are invalid (exit code 2).</exception>
    public EtcdClientOptions Create(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        string? user = parse.GetValue(_user);
        string? password = parse.GetValue(_password);
        if (user is not null && password is null && user.IndexOf(':', StringComparison.Ordinal) is var colon and > 0)
        {
            password = user[(colon + 1)..];
            user = user[..colon];
        }

        if (user is not null && password is null)
        {
            password = Environment.GetEnvironmentVariable("ETCDCTL_PASSWORD");
        }

        var options = new EtcdClientOptions
        {
            Endpoints = [.. Endpoints(parse).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)],
            Username = user,
            Password = password,
            RequestTimeout = TimeSpan.FromSeconds(parse.GetValue(_requestTimeout)),
            TrustedCertificateAuthorities = LoadAuthorities(parse.GetValue(_caCert)),
            ClientCertificate = LoadClientCertificate(parse.GetValue(_cert), parse.GetValue(_key)),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            string problems = string.Join("; ", ex.Message.Split('\n').Skip(1).Select(l => l.Trim().TrimStart('-', ' ')));
            throw new CliException(Flags(problems), ex) { ExitCode = ExitCodes.Usage };
        }

        return options;
    }

    /// <summary>Rewrites the client's advice about option properties in terms of this tool's flags.</summary>
    public static string Flags(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return message
            .Replace("EtcdClientOptions.TrustedCertificateAuthorities and ClientCertificate", "--cacert and --cert/--key", StringComparison.Ordinal)
            .Replace("EtcdClientOptions.Username and Password", "--user and --password", StringComparison.Ordinal)
            .Replace("Username/Password: give both or neither.", "--user needs a password (--password, user:password or ETCDCTL_PASSWORD).", StringComparison.Ordinal)
            .Replace("Endpoints: ", "--endpoints: ", StringComparison.Ordinal);
    }

    /// <summary>Reads a PEM bundle of CA certificates; <paramref name="flag"/> names the flag in errors.</summary>
    internal static X509Certificate2Collection? LoadAuthorities(FileInfo? file, string flag = "--cacert")
    {
        if (file is null)
        {
            return null;
        }

        var authorities = new X509Certificate2Collection();
        try
        {
            authorities.ImportFromPemFile(file.FullName);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new CliException($"{flag}: cannot read CA certificates from '{file.FullName}': {ex.Message}", ex) { ExitCode = ExitCodes.Usage };
        }

        if (authorities.Count == 0)
        {
            throw new CliException($"{flag}: '{file.FullName}' holds no PEM certificate.") { ExitCode = ExitCodes.Usage };
        }

        return authorities;
    }

    private static X509Certificate2? LoadClientCertificate(FileInfo? cert, FileInfo? key)
    {
        if (cert is null || key is null)
        {
            return null;
        }

        try
        {
            return X509Certificate2.CreateFromPemFile(cert.FullName, key.FullName);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new CliException($"--cert/--key: cannot load the client certificate from '{cert.FullName}' and '{key.FullName}': {ex.Message}", ex) { ExitCode = ExitCodes.Usage };
        }
    }
}
