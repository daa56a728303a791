using Microsoft.Extensions.Hosting;

namespace WatcherSync.Relay.Server;

/// <summary>Starts and stops the <see cref="RelayHost"/> singleton with the application.</summary>
internal sealed class RelayHostedService(RelayHost host) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => host.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => host.StopAsync(cancellationToken);
}
