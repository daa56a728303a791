using Microsoft.Extensions.Configuration;
using WatcherSync.Etcd;

namespace WatcherSync.Hosting;

/// <summary>
/// The configuration shape of <see cref="EtcdClientOptions"/>: its settings only (no codec, certificates, time
/// provider, logger or meter factory), null where the configuration has no value. Bound by the configuration binding
/// source generator, for the reason <see cref="ConfigurationSettings"/> gives.
/// </summary>
internal sealed class EtcdClientSettings
{
    public List<string>? Endpoints { get; set; }

    public string? KeyPrefix { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }

    public TimeSpan? RequestTimeout { get; set; }

    public int? ListPageSize { get; set; }

    public TimeSpan? ProgressNotifyInterval { get; set; }

    public TimeSpan? WatchdogSlack { get; set; }

    public TimeSpan? WatchReconnectTimeout { get; set; }

    public BackoffSettings? WatchReconnectBackoff { get; set; }

    public TimeSpan? ClientLeaseTtl { get; set; }

    public SyncerSettings? SyncerOptions { get; set; }

    /// <summary>Binds <paramref name="configuration"/> into <paramref name="options"/>.</summary>
    /// <exception cref="InvalidOperationException">A value does not convert to its option's type; the message names its key.</exception>
    public static void Bind(IConfiguration configuration, EtcdClientOptions options)
    {
        EmptyValues.Check(configuration, [], "WatchReconnectBackoff", "SyncerOptions", "SyncerOptions:Backoff");
        var settings = new EtcdClientSettings();
        configuration.Bind(settings);
        settings.ApplyTo(options);
    }

    /// <summary>
    /// Sets the options that the configuration gives a value, and leaves the others as they are; the endpoints are
    /// added to those already there, as the reflection-based binder did.
    /// </summary>
    public void ApplyTo(EtcdClientOptions options)
    {
        foreach (string endpoint in Endpoints ?? [])
        {
            options.Endpoints.Add(endpoint);
        }

        options.KeyPrefix = KeyPrefix ?? options.KeyPrefix;
        options.Username = Username ?? options.Username;
        options.Password = Password ?? options.Password;
        options.RequestTimeout = RequestTimeout ?? options.RequestTimeout;
        options.ListPageSize = ListPageSize ?? options.ListPageSize;
        options.ProgressNotifyInterval = ProgressNotifyInterval ?? options.ProgressNotifyInterval;
        options.WatchdogSlack = WatchdogSlack ?? options.WatchdogSlack;
        options.WatchReconnectTimeout = WatchReconnectTimeout ?? options.WatchReconnectTimeout;
        WatchReconnectBackoff?.ApplyTo(options.WatchReconnectBackoff ??= new BackoffOptions { Factor = 3 });
        options.ClientLeaseTtl = ClientLeaseTtl ?? options.ClientLeaseTtl;
        SyncerOptions?.ApplyTo(options.SyncerOptions ??= new WatcherSyncerOptions());
    }
}
