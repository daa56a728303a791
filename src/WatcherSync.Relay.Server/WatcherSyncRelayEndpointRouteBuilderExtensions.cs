using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WatcherSync.Relay.Server;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the WatcherSync relay's gRPC service.</summary>
public static class WatcherSyncRelayEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps the relay service (<c>watchersync.relay.v1.Relay</c>) added by <c>AddWatcherSyncRelay</c>. Once the
    /// application has started, each of the server's addresses is asked for HTTP/2 and a warning (event 7014) is
    /// logged when none speaks it: relay clients need HTTP/2, which Kestrel's default endpoint does not do on plain http.
    /// </summary>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <returns>A builder to add conventions (authorization policies, host filters) to the endpoint.</returns>
    public static GrpcServiceEndpointConventionBuilder MapWatcherSyncRelay(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        IServiceProvider services = endpoints.ServiceProvider;
        if (services.GetService<IHostApplicationLifetime>() is { } lifetime && services.GetService<IServer>() is { } server)
        {
            RelayHost host = services.GetRequiredService<RelayHost>();
            lifetime.ApplicationStarted.Register(() => _ = Task.Run(() => Http2EndpointCheck.RunAsync(server, host.Logger, lifetime.ApplicationStopping), CancellationToken.None));
        }

        return endpoints.MapGrpcService<RelayService>();
    }
}
