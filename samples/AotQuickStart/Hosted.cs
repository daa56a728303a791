using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WatcherSync;
using WatcherSync.Hosting;
using WatcherSync.InMemory;

/// <summary>
/// The documented hosting path as native AOT: a host whose syncer's settings come from configuration
/// (appsettings.json beside the binary, overridden by <c>--WatcherSync:Key=value</c> arguments) through
/// <c>AddWatcherSync(IConfiguration)</c>.
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
        using IHost host = builder.Build();
        try
        {
            WatcherSyncOptions options = host.Services.GetRequiredService<IOptions<WatcherSyncOptions>>().Value;
            InMemoryBackendOptions inMemory = host.Services.GetRequiredService<IOptions<InMemoryBackendOptions>>().Value;
            Console.WriteLine(
                $"hosted: prefixes={string.Join(',', options.Prefixes)} syncer={options.Syncer.Name} batch={options.Syncer.MaxUpdatesPerBatch} "
                + $"retry-timeout={options.Syncer.WatchRetryTimeout:c} degraded-after={options.UnreachableDegradedAfter:c} bookmark={inMemory.BookmarkInterval:c}");

            InMemoryBackend store = host.Services.GetRequiredService<InMemoryBackend>();
            await store.CreateAsync(new KVPair(new PathKey($"{options.Prefixes[0]}web-1"), "running"));
            await host.StartAsync();
            await host.Services.GetRequiredService<WatcherSyncer>().WaitForInSyncAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Console.WriteLine("hosted: InSync");
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
