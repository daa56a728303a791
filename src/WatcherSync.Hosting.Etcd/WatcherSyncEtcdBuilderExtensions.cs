using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using WatcherSync.Etcd;
using WatcherSync.Hosting;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>etcd for a hosted syncer: the etcd client, its options checks and its watchdog as the health check's limit.</summary>
public static class WatcherSyncEtcdBuilderExtensions
{
    /// <summary>
    /// Makes etcd available to the hosted syncer, used when <see cref="WatcherSyncOptions.Backend"/> is
    /// <see cref="WatcherSyncBackend.Etcd"/> (for example <c>"Backend": "Etcd"</c> in configuration). The
    /// <see cref="EtcdClientOptions"/> are bound from the <c>Etcd</c> subsection of the section given to
    /// <c>AddWatcherSync(IConfiguration)</c>, if any, and may be configured further with
    /// <c>Services.Configure&lt;EtcdClientOptions&gt;</c>. They are checked when the host starts, only when etcd is chosen.
    /// </summary>
    /// <param name="builder">The WatcherSync builder.</param>
    /// <returns>The builder.</returns>
    public static WatcherSyncBuilder AddEtcdBackend(this WatcherSyncBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        if (services.Any(static d => d.ServiceType == typeof(EtcdHostingMarker)))
        {
            return builder;
        }

        services.AddSingleton<EtcdHostingMarker>();
        services.AddOptions<EtcdClientOptions>();
        services.AddSingleton<IConfigureOptions<EtcdClientOptions>>(static sp => new ConfigureNamedOptions<EtcdClientOptions>(
            Options.Options.DefaultName,
            o => BindFromHostConfiguration(sp, o)));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<EtcdClientOptions>, EtcdDiagnosticsPostConfigure>());
        services.TryAddSingleton(static sp => new EtcdBackendClient(sp.GetRequiredService<IOptions<EtcdClientOptions>>().Value));
        services.AddSingleton(new HostedBackend(
            WatcherSyncBackend.Etcd,
            static sp => sp.GetRequiredService<EtcdBackendClient>(),
            static (sp, client) => client is EtcdBackendClient
                && sp.GetRequiredService<IOptions<EtcdClientOptions>>().Value is { } etcd
                && etcd.ProgressNotifyInterval != Timeout.InfiniteTimeSpan
                    ? etcd.ProgressNotifyInterval + etcd.WatchdogSlack
                    : null,
            static sp => sp.GetRequiredService<IOptionsMonitor<EtcdClientOptions>>().CurrentValue.Validate()));
        return builder;
    }

    /// <summary>Uses etcd, configured in code. The options are checked when the host starts.</summary>
    /// <param name="builder">The WatcherSync builder.</param>
    /// <param name="configure">Configures the client: at least <see cref="EtcdClientOptions.Endpoints"/>.</param>
    /// <returns>The builder.</returns>
    public static WatcherSyncBuilder UseEtcd(this WatcherSyncBuilder builder, Action<EtcdClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.AddEtcdBackend();
        builder.Services.Configure<WatcherSyncOptions>(static o => o.Backend = WatcherSyncBackend.Etcd);
        builder.Services.Configure(configure);
        return builder;
    }

    /// <summary>
    /// Uses etcd, with <see cref="EtcdClientOptions"/> bound from <paramref name="configuration"/> (for example
    /// <c>Endpoints</c>, <c>KeyPrefix</c>, <c>Username</c>, <c>Password</c>, <c>RequestTimeout</c>). The options are
    /// checked when the host starts.
    /// </summary>
    /// <param name="builder">The WatcherSync builder.</param>
    /// <param name="configuration">The configuration section of the etcd client.</param>
    /// <returns>The builder.</returns>
    public static WatcherSyncBuilder UseEtcd(this WatcherSyncBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        builder.AddEtcdBackend();
        builder.Services.Configure<WatcherSyncOptions>(static o => o.Backend = WatcherSyncBackend.Etcd);
        builder.Services.AddOptions<EtcdClientOptions>().Configure(o => EtcdClientSettings.Bind(configuration, o));
        builder.Services.AddSingleton<IOptionsChangeTokenSource<EtcdClientOptions>>(new ConfigurationChangeTokenSource<EtcdClientOptions>(configuration));
        return builder;
    }

    // Binds the Etcd subsection of the section AddWatcherSync(IConfiguration) registered, if it did.
    private static void BindFromHostConfiguration(IServiceProvider services, EtcdClientOptions options)
    {
        if (services.GetService<WatcherSyncConfiguration>() is { } configuration)
        {
            EtcdClientSettings.Bind(configuration.Section.GetSection("Etcd"), options);
        }
    }

    /// <summary>Registered once, so that etcd is added once however many times it is asked for.</summary>
    private sealed class EtcdHostingMarker;
}
