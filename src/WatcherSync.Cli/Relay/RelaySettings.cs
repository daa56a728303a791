namespace WatcherSync.Cli.Relay;

/// <summary>What <c>watchersync relay</c> was asked to do.</summary>
internal sealed record RelaySettings
{
    public required Uri Listen { get; init; }

    public required string Feed { get; init; }

    public IReadOnlyList<string> Prefixes { get; init; } = [];

    public bool Demo { get; init; }

    public int DemoKeys { get; init; } = 5000;

    public IReadOnlyList<string> Tokens { get; init; } = [];

    public bool AllowAnonymous { get; init; }

    public FileInfo? TlsCertificate { get; init; }

    public FileInfo? TlsKey { get; init; }

    public FileInfo? ClientCertificateAuthorities { get; init; }

    public int MaxConnections { get; init; } = 10_000;
}
