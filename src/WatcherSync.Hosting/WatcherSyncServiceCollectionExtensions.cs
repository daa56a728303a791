using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WatcherSync;
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
        AddUnnamed(services);
        if (configure is not null)
        {
            services.Configure(configure);
        }

        return new WatcherSyncBuilder(services, Options.Options.DefaultName);
    }

    /// <summary>
    /// Registers a named syncer, one more beside the unnamed one and the other named ones: its own options (named
    /// options), resource types, sinks, hosted service and health check (<see cref="AddWatcherSync(IHealthChecksBuilder, string, string, HealthStatus?, IEnumerable{string}?)"/>),
    /// resolvable as keyed services (<c>[FromKeyedServices(name)] WatcherSyncer</c> or <see cref="SharedWatcherSyncer"/>).
    /// Every syncer of the host watches the host's one datastore. Calling it again with the same name adds to that syncer.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The syncer's name: not empty.</param>
    /// <param name="configure">Configures its options.</param>
    /// <returns>A builder to add its resource types and sinks.</returns>
    public static WatcherSyncBuilder AddWatcherSync(this IServiceCollection services, string name, Action<WatcherSyncOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configure);
        AddCore(services);
        AddNamed(services, name);
        services.Configure(name, configure);
        return new WatcherSyncBuilder(services, name);
    }

    /// <summary>Registers a named syncer as <see cref="AddWatcherSync(IServiceCollection, string, Action{WatcherSyncOptions})"/> does, its options bound from <paramref name="configuration"/>.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="name">The syncer's name: not empty.</param>
    /// <param name="configuration">The configuration section of its <see cref="WatcherSyncOptions"/> (the datastore's options are the unnamed syncer's).</param>
    /// <returns>A builder to add its resource types and sinks.</returns>
    public static WatcherSyncBuilder AddWatcherSync(this IServiceCollection services, string name, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configuration);
        AddCore(services);
        AddNamed(services, name);
        BindOptions(services, name, configuration);
        return new WatcherSyncBuilder(services, name);
    }

    /// <summary>
    /// Registers the syncer as <see cref="AddWatcherSync(IServiceCollection, Action{WatcherSyncOptions})"/> does, with
    /// its options bound from <paramref name="configuration"/> (usually the <c>WatcherSync</c> section): the
    /// <see cref="WatcherSyncOptions"/> properties and the in-memory backend's options from its <c>InMemory</c>
    /// subsection (etcd's, from its <c>Etcd</c> subsection, with <c>AddEtcdBackend()</c> of WatcherSync.Hosting.Etcd).
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section.</param>
    /// <returns>A builder to add resource types and sinks.</returns>
    public static WatcherSyncBuilder AddWatcherSync(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        AddCore(services);
        AddUnnamed(services);
        BindOptions(services, Options.Options.DefaultName, configuration);
        IConfigurationSection inMemory = configuration.GetSection("InMemory");
        services.AddOptions<InMemoryBackendOptions>().Configure(o => ConfigurationSettings.Bind(inMemory, o));
        services.AddSingleton<IOptionsChangeTokenSource<InMemoryBackendOptions>>(new ConfigurationChangeTokenSource<InMemoryBackendOptions>(inMemory));
        services.AddSingleton(new WatcherSyncConfiguration(configuration));
        return new WatcherSyncBuilder(services, Options.Options.DefaultName);
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

    /// <summary>Adds a health check on the named syncer <paramref name="syncer"/>, as <see cref="AddWatcherSync(IHealthChecksBuilder, string, HealthStatus?, IEnumerable{string}?)"/> does on the unnamed one.</summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="syncer">The name given to <see cref="AddWatcherSync(IServiceCollection, string, Action{WatcherSyncOptions})"/>.</param>
    /// <param name="failureStatus">The status reported on failure; null for Unhealthy.</param>
    /// <param name="tags">Tags to filter checks by; null for none.</param>
    /// <returns>The health checks builder.</returns>
    public static IHealthChecksBuilder AddWatcherSync(this IHealthChecksBuilder builder, string name, string syncer, HealthStatus? failureStatus, IEnumerable<string>? tags)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(syncer);
        return builder.Add(new HealthCheckRegistration(
            name,
            sp => new WatcherSyncHealthCheck(sp.GetRequiredKeyedService<WatcherSyncPipeline>(syncer)),
            failureStatus,
            tags));
    }

    // As OptionsBuilder.Bind does (configured from the section, reloaded when it changes), without the reflection-based binder.
    private static void BindOptions(IServiceCollection services, string name, IConfiguration configuration)
    {
        services.AddOptions<WatcherSyncOptions>(name).Configure(o => ConfigurationSettings.Bind(configuration, o));
        services.AddSingleton<IOptionsChangeTokenSource<WatcherSyncOptions>>(new ConfigurationChangeTokenSource<WatcherSyncOptions>(name, configuration));
    }

    private static void AddUnnamed(IServiceCollection services)
    {
        if (!Names(services).Add(Options.Options.DefaultName))
        {
            return;
        }

        services.AddOptions<WatcherSyncOptions>().ValidateOnStart();
        services.TryAddSingleton(static sp => new WatcherSyncPipeline(sp, Options.Options.DefaultName));
        services.TryAddSingleton(static sp => sp.GetRequiredService<WatcherSyncPipeline>().DatastoreSyncer);
        services.TryAddSingleton(static sp => sp.GetRequiredService<WatcherSyncPipeline>().Shared);
        services.AddHostedService<WatcherSyncHostedService>();
    }

    private static void AddNamed(IServiceCollection services, string name)
    {
        if (!Names(services).Add(name))
        {
            return;
        }

        services.AddOptions<WatcherSyncOptions>(name).ValidateOnStart();

        // Logged, measured and reported under its registration's name unless Syncer.Name says otherwise.
        services.PostConfigure<WatcherSyncOptions>(name, o =>
        {
            if (o.Syncer is { Name: "default" } syncer)
            {
                syncer.Name = name;
            }
        });
        services.AddKeyedSingleton(name, static (sp, key) => new WatcherSyncPipeline(sp, (string)key!));
        services.AddKeyedSingleton(name, static (sp, key) => sp.GetRequiredKeyedService<WatcherSyncPipeline>(key).DatastoreSyncer);
        services.AddKeyedSingleton(name, static (sp, key) => sp.GetRequiredKeyedService<WatcherSyncPipeline>(key).Shared);

        // One hosted service per name: AddHostedService would keep one per type.
        services.AddSingleton<IHostedService>(sp => new WatcherSyncHostedService(sp.GetRequiredKeyedService<WatcherSyncPipeline>(name)));
    }

    /// <summary>The names registered in this collection ("" for the unnamed syncer), kept in the collection itself.</summary>
    private static HashSet<string> Names(IServiceCollection services)
    {
        if (services.FirstOrDefault(static d => d.ServiceType == typeof(WatcherSyncNames))?.ImplementationInstance is WatcherSyncNames names)
        {
            return names.Names;
        }

        var added = new WatcherSyncNames();
        services.AddSingleton(added);
        return added.Names;
    }

    private static void AddCore(IServiceCollection services)
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<WatcherSyncOptions>, WatcherSyncOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<WatcherSyncOptions>, DiagnosticsPostConfigure>());

        services.TryAddSingleton(static sp => new InMemoryBackend(sp.GetRequiredService<IOptions<InMemoryBackendOptions>>().Value));
        services.TryAddSingleton<IBackendClient>(static sp => CreateBackend(sp));

    }

    private static IBackendClient CreateBackend(IServiceProvider services)
    {
        WatcherSyncBackend chosen = services.GetRequiredService<IOptions<WatcherSyncOptions>>().Value.Backend;
        if (chosen == WatcherSyncBackend.InMemory)
        {
            return services.GetRequiredService<InMemoryBackend>();
        }

        HostedBackend backend = services.GetServices<HostedBackend>().LastOrDefault(b => b.Backend == chosen)
            ?? throw new InvalidOperationException($"WatcherSync:Backend is {chosen}, which needs the WatcherSync.Hosting.{chosen} package: add it and call AddEtcdBackend() (or UseEtcd(...)) on the builder AddWatcherSync returns.");
        return backend.Create(services);
    }
}
