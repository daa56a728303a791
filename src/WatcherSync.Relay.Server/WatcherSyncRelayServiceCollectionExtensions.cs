using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using WatcherSync.Relay.Server;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers a WatcherSync relay server with an ASP.NET Core application.</summary>
public static class WatcherSyncRelayServiceCollectionExtensions
{
    /// <summary>
    /// Adds the relay: gRPC, its feeds (started and stopped with the host), its service and its
    /// <see cref="RelayServerControl"/>. Map it with
    /// <see cref="WatcherSyncRelayEndpointRouteBuilderExtensions.MapWatcherSyncRelay"/>.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Configures the feeds, limits and credentials.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddWatcherSyncRelay(this IServiceCollection services, Action<RelayServerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.AddGrpc().AddServiceOptions<RelayService>(options =>
        {
            // Clients send only a hello and pongs: anything large is garbage.
            options.MaxReceiveMessageSize = 64 * 1024;
            options.MaxSendMessageSize = null;
        });
        services.Configure(configure);
        services.TryAddSingleton<RelayHost>();
        services.TryAddSingleton<RelayService>();
        services.TryAddSingleton(static sp => new RelayServerControl(sp.GetRequiredService<RelayHost>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RelayHostedService>());
        return services;
    }

    /// <summary>Adds a health check on the relay's feeds (Healthy in sync, Degraded resyncing, failure otherwise).</summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">The status reported when a feed waits for the datastore; null for Unhealthy.</param>
    /// <param name="tags">Tags of the check.</param>
    /// <returns>The builder, for chaining.</returns>
    public static IHealthChecksBuilder AddWatcherSyncRelay(this IHealthChecksBuilder builder, string name = "watchersync-relay", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(name, sp => new RelayHealthCheck(sp.GetRequiredService<RelayHost>()), failureStatus, tags));
    }
}
