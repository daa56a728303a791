using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WatcherSync.Relay;

namespace WatcherSync.Hosting;

/// <summary>Makes the relay client of a hosted syncer: its relay options, with the syncer's prefixes and hosting's diagnostics.</summary>
internal static class RelaySyncerFactory
{
    /// <summary>Makes the client for the syncer <paramref name="name"/>.</summary>
    /// <param name="services">The service provider.</param>
    /// <param name="name">The syncer's name: empty for the unnamed syncer.</param>
    /// <param name="resourceTypes">The syncer's resource types: each must be a prefix (a relay serves prefixes), without an update processor.</param>
    /// <param name="settings">The syncer's hosting options: <c>Syncer.DeleteOnStop = false</c> turns the relay client's off too.</param>
    /// <param name="callbacks">The shared syncer's callbacks.</param>
    /// <exception cref="InvalidOperationException">A resource type is not a plain prefix.</exception>
    public static ISyncer Create(IServiceProvider services, string name, IReadOnlyList<ResourceType> resourceTypes, WatcherSyncOptions settings, ISyncerCallbacks callbacks)
    {
        RelaySyncerOptions relay = services.GetRequiredService<IOptionsMonitor<RelaySyncerOptions>>().Get(name);
        foreach (ResourceType type in resourceTypes)
        {
            if (type.ListInterface is not PrefixListOptions prefix || type.UpdateProcessor is not null)
            {
                throw new InvalidOperationException($"The hosted syncer '{settings.Syncer.Name}' reads a relay, which serves key prefixes: {type.ListInterface.GetType().Name}{(type.UpdateProcessor is null ? string.Empty : " with an update processor")} cannot be relayed. Use AddPrefix (or WatcherSync:Prefixes).");
            }

            if (!relay.Prefixes.Contains(prefix.Prefix))
            {
                relay.Prefixes.Add(prefix.Prefix);
            }
        }

        relay.LoggerFactory ??= settings.Syncer.LoggerFactory ?? services.GetService<ILoggerFactory>();
        relay.MeterFactory ??= settings.Syncer.MeterFactory ?? services.GetService<IMeterFactory>();
        relay.DeleteOnStop &= settings.Syncer.DeleteOnStop;
        return new RelaySyncer(relay, callbacks);
    }
}
