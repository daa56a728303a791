using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using WatcherSync;
using WatcherSync.Etcd;
using WatcherSync.Hosting;
using WatcherSync.InMemory;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a WatcherSync syncer that runs with the host.</summary>
public static class WatcherSyncServiceCollectionExtensions
{
    /// <summary>
    /// Registers the syncer, its backend (the in-memory one unless told otherwise), a hosted service that starts it
    /// with the host and stops it with the host, and the options checks that run when the host starts. Calling it
    /// again adds to the same syncer.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the options; null to keep the defaults.</param>
    /// <returns>A builder to choose the backend and add resource types and sinks.</returns>
    public static WatcherSyncBuilder AddWatcherSync(this IServiceCollection services, Action<WatcherSyncOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        AddCore(services);
        if (configure is not null)
        {
            services.Configure(configure);
        }

        return new WatcherSyncBuilder(services);
    }

    /// <summary>
    /// Registers the syncer as <see cref="AddWatcherSync(IServiceCollection, Action{WatcherSyncOptions})"/> does, with
    /// its options bound from <paramref name="configuration"/> (usually the <c>WatcherSync</c> section): the
    /// <see cref="WatcherSyncOptions"/> properties, the in-memory backend's options from its <c>InMemory</c>
    /// subsection and etcd's from its <c>Etcd</c> subsection.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section.</param>
    /// <returns>A builder to add resource types and sinks.</returns>
    [RequiresUnreferencedCode(ConfigurationBinding.Message)]
    [RequiresDynamicCode(ConfigurationBinding.Message)]
    public static WatcherSyncBuilder AddWatcherSync(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        AddCore(services);
        services.AddOptions<WatcherSyncOptions>().Bind(configuration);
        services.AddOptions<InMemoryBackendOptions>().Bind(configuration.GetSection("InMemory"));
        services.AddOptions<EtcdClientOptions>().Bind(configuration.GetSection("Etcd"));
        return new WatcherSyncBuilder(services);
    }

    /// <summary>
    /// Adds a health check on the hosted syncer: Healthy when in sync, Degraded while a resync is in progress, and
    /// the registration's failure status (Unhealthy by default) while it waits for the datastore, when the
    /// datastore has gone unheard past <see cref="WatcherSyncOptions.MaxEventAge"/>, when the syncer is not running
    /// or when a buffered sink failed. Its data carries the status, the key count and the time since the last event.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name. Default: <c>watchersync</c>.</param>
    /// <param name="failureStatus">The status reported on failure; null for Unhealthy.</param>
    /// <param name="tags">Tags to filter checks by (for example <c>ready</c>).</param>
    /// <returns>The health checks builder.</returns>
    public static IHealthChecksBuilder AddWatcherSync(this IHealthChecksBuilder builder, string name = "watchersync", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        builder.Services.TryAddSingleton<WatcherSyncHealthCheck>();
        return builder.Add(new HealthCheckRegistration(
            name,
            static sp => sp.GetRequiredService<WatcherSyncHealthCheck>(),
            failureStatus,
            tags));
    }

    private static void AddCore(IServiceCollection services)
    {
        services.AddOptions<WatcherSyncOptions>().ValidateOnStart();
        services.AddOptions<WatcherSyncRegistrations>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WatcherSyncOptions>, WatcherSyncOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<WatcherSyncOptions>, DiagnosticsPostConfigure>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<EtcdClientOptions>, DiagnosticsPostConfigure>());

        services.TryAddSingleton(static sp => new InMemoryBackend(sp.GetRequiredService<IOptions<InMemoryBackendOptions>>().Value));
        services.TryAddSingleton(static sp => new EtcdBackendClient(sp.GetRequiredService<IOptions<EtcdClientOptions>>().Value));
        services.TryAddSingleton<IBackendClient>(static sp => sp.GetRequiredService<IOptions<WatcherSyncOptions>>().Value.Backend switch
        {
            WatcherSyncBackend.Etcd => sp.GetRequiredService<EtcdBackendClient>(),
            _ => sp.GetRequiredService<InMemoryBackend>(),
        });

        services.TryAddSingleton<WatcherSyncPipeline>();
        services.TryAddSingleton(static sp => sp.GetRequiredService<WatcherSyncPipeline>().Syncer);
        services.TryAddSingleton(static sp => sp.GetRequiredService<WatcherSyncPipeline>().Shared);
        services.AddHostedService<WatcherSyncHostedService>();
    }
}
