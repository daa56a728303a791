using Microsoft.Extensions.Configuration;
using WatcherSync.Relay;

namespace WatcherSync.Hosting;

/// <summary>
/// The configuration shape of <see cref="RelaySyncerOptions"/>: its settings only (no codec, key parser, certificate,
/// certificate check, time provider, logger or meter factory), null where the configuration has no value. Bound by the
/// configuration binding source generator, for the reason <see cref="ConfigurationSettings"/> gives.
/// </summary>
internal sealed class RelaySyncerSettings
{
    public List<Uri>? Endpoints { get; set; }

    public string? Feed { get; set; }

    public List<string>? Prefixes { get; set; }

    public string? ClientName { get; set; }

    public string? BearerToken { get; set; }

    public TimeSpan? MinReconnectDelay { get; set; }

    public TimeSpan? MaxReconnectDelay { get; set; }

    public TimeSpan? SilenceTimeout { get; set; }

    public TimeSpan? DisconnectedTimeout { get; set; }

    public int? MaxUpdatesPerBatch { get; set; }

    public bool? Compression { get; set; }

    public bool? DeleteOnStop { get; set; }

    /// <summary>Binds <paramref name="configuration"/> into <paramref name="options"/>.</summary>
    /// <exception cref="InvalidOperationException">A value does not convert to its option's type, or is empty where only text may be; the message names its key.</exception>
    public static void Bind(IConfiguration configuration, RelaySyncerOptions options)
    {
        EmptyValues.Check(configuration, []);
        var settings = new RelaySyncerSettings();
        configuration.Bind(settings);
        settings.ApplyTo(options);
    }

    /// <summary>
    /// Sets the options that the configuration gives a value, and leaves the others as they are; the endpoints and
    /// prefixes are added to those already there, as the reflection-based binder did.
    /// </summary>
    public void ApplyTo(RelaySyncerOptions options)
    {
        foreach (Uri endpoint in Endpoints ?? [])
        {
            options.Endpoints.Add(endpoint);
        }

        options.Feed = Feed ?? options.Feed;
        foreach (string prefix in Prefixes ?? [])
        {
            options.Prefixes.Add(prefix);
        }

        options.ClientName = ClientName ?? options.ClientName;
        options.BearerToken = BearerToken ?? options.BearerToken;
        options.MinReconnectDelay = MinReconnectDelay ?? options.MinReconnectDelay;
        options.MaxReconnectDelay = MaxReconnectDelay ?? options.MaxReconnectDelay;
        options.SilenceTimeout = SilenceTimeout ?? options.SilenceTimeout;
        options.DisconnectedTimeout = DisconnectedTimeout ?? options.DisconnectedTimeout;
        options.MaxUpdatesPerBatch = MaxUpdatesPerBatch ?? options.MaxUpdatesPerBatch;
        options.Compression = Compression ?? options.Compression;
        options.DeleteOnStop = DeleteOnStop ?? options.DeleteOnStop;
    }
}
