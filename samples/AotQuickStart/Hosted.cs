using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WatcherSync;
using WatcherSync.Hosting;
using WatcherSync.InMemory;
using WatcherSync.Relay;

/// <summary>
/// The documented hosting path as native AOT: a host whose syncer's settings come from configuration
/// (appsettings.json beside the binary, overridden by <c>--WatcherSync:Key=value</c> arguments) through
/// <c>AddWatcherSync(IConfiguration)</c>. Given a <c>Relayed</c> section (<c>--Relayed:Relay:Endpoints:0=http://...</c>),
/// a second syncer, named <c>relayed</c>, reads that relay through <c>UseRelay(IConfiguration)</c>.
/// </summary>
internal static class Hosted
{
    public static async Task<int> RunAsync(string[] args)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Services.AddWatcherSync(builder.Configuration.GetSection(WatcherSyncOptions.DefaultSectionName));
        IConfigurationSection relayedSection = builder.Configuration.GetSection("Relayed");
        RelayedSink? relayed = relayedSection.Exists() ? new RelayedSink() : null;
        if (relayed is not null)
        {
            builder.Services.AddWatcherSync("relayed", relayedSection).UseRelay(relayedSection.GetSection("Relay")).AddSink(_ => relayed.Callbacks);
        }

        using IHost host = builder.Build();
        try
        {
            WatcherSyncOptions options = host.Services.GetRequiredService<IOptions<WatcherSyncOptions>>().Value;
            InMemoryBackendOptions inMemory = host.Services.GetRequiredService<IOptions<InMemoryBackendOptions>>().Value;
            Console.WriteLine(
                $"hosted: prefixes={string.Join(',', options.Prefixes)} syncer={options.Syncer.Name} batch={options.Syncer.MaxUpdatesPerBatch} "
                + $"retry-timeout={options.Syncer.WatchRetryTimeout:c} degraded-after={options.UnreachableDegradedAfter:c} bookmark={inMemory.BookmarkInterval:c}");
            if (relayed is not null)
            {
                RelaySyncerOptions relay = host.Services.GetRequiredService<IOptionsMonitor<RelaySyncerOptions>>().Get("relayed");
                Console.WriteLine(
                    $"hosted relay: endpoints={string.Join(',', relay.Endpoints)} feed={relay.Feed} client={relay.ClientName} batch={relay.MaxUpdatesPerBatch} "
                    + $"silence={relay.SilenceTimeout:c} compression={relay.Compression}");
            }

            InMemoryBackend store = host.Services.GetRequiredService<InMemoryBackend>();
            await store.CreateAsync(new KVPair(new PathKey($"{options.Prefixes[0]}web-1"), "running"));
            await host.StartAsync();
            await host.Services.GetRequiredService<WatcherSyncer>().WaitForInSyncAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Console.WriteLine("hosted: InSync");
            if (relayed is not null)
            {
                string keys = await relayed.InSync.Task.WaitAsync(TimeSpan.FromSeconds(30));
                Console.WriteLine($"hosted relay: InSync keys={keys}");
            }

            await host.StopAsync();
            return 0;
        }
        catch (InvalidOperationException e)
        {
            Console.WriteLine($"hosted: configuration error: {e.Message}");
            return 2;
        }
    }
}

/// <summary>The relayed syncer's sink: the keys it holds when it is first in sync (its callbacks never run concurrently).</summary>
internal sealed class RelayedSink
{
    private readonly SortedSet<string> _keys = new(StringComparer.Ordinal);

    public RelayedSink() => Callbacks = new SyncerCallbacks
    {
        OnUpdates = updates =>
        {
            foreach (Update update in updates)
            {
                _ = update.UpdateType == UpdateType.Deleted ? _keys.Remove(update.KVPair.Key.DefaultPath) : _keys.Add(update.KVPair.Key.DefaultPath);
            }
        },
        OnStatusUpdated = status =>
        {
            if (status == SyncStatus.InSync)
            {
                InSync.TrySetResult(string.Join(',', _keys));
            }
        },
    };

    public ISyncerCallbacks Callbacks { get; }

    public TaskCompletionSource<string> InSync { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
