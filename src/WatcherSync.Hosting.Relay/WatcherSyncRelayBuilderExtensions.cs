using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using WatcherSync.Hosting;
using WatcherSync.Relay;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Relays for a hosted syncer: its picture comes from WatcherSync relays (a <see cref="RelaySyncer"/>) instead of
/// from the datastore, with the same sinks, health check and stop.
/// </summary>
public static class WatcherSyncRelayBuilderExtensions
{
    /// <summary>
    /// Makes the builder's syncer (unnamed or named) a client of WatcherSync relays. Its prefixes
    /// (<see cref="WatcherSyncOptions.Prefixes"/> and <see cref="WatcherSyncBuilder.AddPrefix"/>) are the prefixes asked of the
    /// relay; the logger and meter factories, when left null, come from the service provider. The relay options are
    /// checked when the host starts. The host's datastore is not used by this syncer.
    /// </summary>
    /// <param name="builder">The WatcherSync builder.</param>
    /// <param name="configure">Configures the client: at least <see cref="RelaySyncerOptions.Endpoints"/>.</param>
    /// <returns>The builder.</returns>
    public static WatcherSyncBuilder UseRelay(this WatcherSyncBuilder builder, Action<RelaySyncerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        AddRelay(builder).Configure(configure);
        return builder;
    }

    /// <summary>
    /// Makes the builder's syncer a client of WatcherSync relays as <see cref="UseRelay(WatcherSyncBuilder, Action{RelaySyncerOptions})"/>
    /// does, with the <see cref="RelaySyncerOptions"/> bound from <paramref name="configuration"/> (for example the
    /// <c>WatcherSync:Relay</c> section: <c>Endpoints</c>, <c>Feed</c>, <c>BearerToken</c>, <c>ClientName</c>, timings).
    /// Only configuration's settings are bound (without reflection, so also in a trimmed or native AOT app); the codec,
    /// key parser, certificates, clock and factories are set in code. A key the configuration does not have leaves its
    /// option as it was; endpoints and prefixes are added to those already there. The options follow the configuration
    /// when it reloads.
    /// </summary>
    /// <param name="builder">The WatcherSync builder.</param>
    /// <param name="configuration">The configuration section of the relay client.</param>
    /// <returns>The builder.</returns>
    public static WatcherSyncBuilder UseRelay(this WatcherSyncBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        AddRelay(builder).Configure(o => RelaySyncerSettings.Bind(configuration, o));
        builder.Services.AddSingleton<IOptionsChangeTokenSource<RelaySyncerOptions>>(new ConfigurationChangeTokenSource<RelaySyncerOptions>(builder.Name, configuration));
        return builder;
    }

    private static OptionsBuilder<RelaySyncerOptions> AddRelay(WatcherSyncBuilder builder)
    {
        string name = builder.Name;
        IServiceCollection services = builder.Services;
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RelaySyncerOptions>, RelayOptionsValidator>());
        if (!services.Any(d => d.ServiceType == typeof(HostedSyncerSource) && d.ImplementationInstance is HostedSyncerSource { Name: var n } && n == name))
        {
            services.AddSingleton(new HostedSyncerSource(
                name,
                "Relay",
                (sp, types, settings, callbacks) => RelaySyncerFactory.Create(sp, name, types, settings, callbacks)));
        }

        return services.AddOptions<RelaySyncerOptions>(name).ValidateOnStart();
    }
}
