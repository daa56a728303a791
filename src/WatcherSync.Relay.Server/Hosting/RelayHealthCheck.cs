using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace WatcherSync.Relay.Server;

/// <summary>
/// The relay's health: Healthy when every feed is in sync, Degraded while any resyncs, and the registration's failure
/// status when any waits for the datastore or the relay is not running. The data carries each feed's status and keys,
/// and the number of clients.
/// </summary>
internal sealed class RelayHealthCheck(RelayHost host) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var data = new Dictionary<string, object>(StringComparer.Ordinal) { ["clients"] = host.Connections.Count };
        SyncStatus worst = SyncStatus.InSync;
        foreach (RelayFeed feed in host.Feeds)
        {
            SyncStatus status = feed.Status;
            data["feed." + feed.Name + ".status"] = status.ToString();
            data["feed." + feed.Name + ".keys"] = feed.KeyCount;
            if (status == SyncStatus.WaitForDatastore || (status == SyncStatus.ResyncInProgress && worst == SyncStatus.InSync))
            {
                worst = status;
            }
        }

        HealthCheckResult result = !host.IsRunning
            ? new HealthCheckResult(context.Registration.FailureStatus, "The relay is not running.", data: data)
            : worst switch
            {
                SyncStatus.InSync => HealthCheckResult.Healthy("Every feed is in sync.", data),
                SyncStatus.ResyncInProgress => HealthCheckResult.Degraded("A feed is resyncing.", data: data),
                _ => new HealthCheckResult(context.Registration.FailureStatus, "A feed is waiting for the datastore.", data: data),
            };
        return Task.FromResult(result);
    }
}
