using Microsoft.AspNetCore.Routing;
using WatcherSync.Relay.Server;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the WatcherSync relay's gRPC service.</summary>
public static class WatcherSyncRelayEndpointRouteBuilderExtensions
{
    /// <summary>Maps the relay service (<c>watchersync.relay.v1.Relay</c>) added by <c>AddWatcherSyncRelay</c>.</summary>
    /// <param name="endpoints">The application's endpoints.</param>
    /// <returns>A builder to add conventions (authorization policies, host filters) to the endpoint.</returns>
    public static GrpcServiceEndpointConventionBuilder MapWatcherSyncRelay(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        return endpoints.MapGrpcService<RelayService>();
    }
}
