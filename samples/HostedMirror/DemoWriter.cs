using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WatcherSync;
using WatcherSync.Hosting;
using WatcherSync.InMemory;

namespace HostedMirror;

/// <summary>
/// Gives the in-memory store something to mirror: seeds keys under the first prefix, then changes one every
/// <see cref="MirrorSettings.WriteInterval"/>. Does nothing when the backend is etcd (write there with etcdctl).
/// </summary>
public sealed class DemoWriter(IServiceProvider services, IOptions<WatcherSyncOptions> sync, IOptions<MirrorSettings> settings, TimeProvider time) : BackgroundService
{
    /// <summary>Seeds the keys before the host goes on, so the syncer's first list already holds them.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (Store() is { } store)
        {
            string prefix = sync.Value.Prefixes[0];
            for (int i = 0; i < settings.Value.SeedKeys; i++)
            {
                await store.ApplyAsync(new KVPair(new PathKey(prefix + "seed-" + i.ToString(CultureInfo.InvariantCulture)), "seed"), cancellationToken);
            }
        }

        await base.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Store() is not { } store)
        {
            return;
        }

        string prefix = sync.Value.Prefixes[0];
        using var timer = new PeriodicTimer(settings.Value.WriteInterval, time);
        long tick = 0;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            tick++;
            await store.ApplyAsync(new KVPair(new PathKey(prefix + "heartbeat"), tick.ToString(CultureInfo.InvariantCulture)), stoppingToken);
        }
    }

    private InMemoryBackend? Store() =>
        sync.Value.Backend == WatcherSyncBackend.InMemory && sync.Value.Prefixes.Count > 0
            ? services.GetService(typeof(IBackendClient)) as InMemoryBackend
            : null;
}
