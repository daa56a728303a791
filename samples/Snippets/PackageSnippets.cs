using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WatcherSync.DataSync;
using WatcherSync.Etcd;
using WatcherSync.InMemory;
using WatcherSync.Relay;
using WatcherSync.Relay.Server;

namespace WatcherSync.Snippets;

/// <summary>The examples of each package's README.md (see Snippets.csproj for how they are checked).</summary>
public static class PackageSnippets
{
    public static async Task CoreAsync(ISyncerCallbacks mySink, Func<Task> whileRunning)
    {
        // snippet:package_core
        await using var store = new InMemoryBackend();
        await store.CreateAsync("/app/a", "1");

        await using ISyncer syncer = store.CreateSyncer([new ResourceType(new PrefixListOptions("/app/"))], mySink);
        syncer.Start();   // mySink.OnStatusUpdated(ResyncInProgress), OnUpdates([New /app/a]), OnStatusUpdated(InSync), ...
        // end
        await whileRunning();
    }

    public static async Task EtcdAsync(ISyncerCallbacks mySink)
    {
        // snippet:package_etcd
        await using var etcd = new EtcdBackendClient(new EtcdClientOptions
        {
            Endpoints = { "http://127.0.0.1:2379" },
        });
        await using ISyncer syncer = etcd.CreateSyncer([new ResourceType(new PrefixListOptions("/registry/"))], mySink);
        syncer.Start();
        // end
    }

    public static async Task DataSyncAsync(IBackendClient backend, CancellationToken cancellationToken)
    {
        // snippet:package_datasync
        await using var engine = new DataSyncEngine(backend);
        var changes = Channel.CreateUnbounded<ChangeEvent>();
        await using IWatchRegistration registration = engine.Watch("my-plugin", changes.Writer, resyncs: null, "/config/");
        _ = Task.Run(async () =>
        {
            await foreach (ChangeEvent change in changes.Reader.ReadAllAsync(cancellationToken))
            {
                foreach (IChangeValue value in change.Changes)
                {
                    Console.WriteLine($"{value.ChangeType} {value.Key}");
                }

                change.Done(null);   // acknowledge: the writer's PutAsync completes once every subscriber has
            }
        }, cancellationToken);
        await engine.PutAsync("/config/a", "value", PutOption.WithTtl(TimeSpan.FromMinutes(1)));
        // end
    }

    public static async Task HostingAsync(string[] args)
    {
        // snippet:package_hosting
        var builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddWatcherSync(builder.Configuration.GetSection("WatcherSync"))
            .AddBufferedSink<MirrorSink>();           // an ISyncerCallbacks of yours, behind a DedupeBuffer
        builder.Services.AddHealthChecks().AddWatcherSync();
        await builder.Build().RunAsync();
        // end
    }

    public static async Task HostingEtcdAsync(string[] args)
    {
        // snippet:package_hosting_etcd
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddWatcherSync(builder.Configuration.GetSection("WatcherSync"))
            .AddEtcdBackend()                           // etcd when "Backend": "Etcd", its options from the "Etcd" subsection
            .AddBufferedSink<MirrorSink>();
        await builder.Build().RunAsync();
        // end
    }

    public static void RelayServer(string[] args)
    {
        // snippet:package_relay_server
        WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
        builder.WebHost.ConfigureKestrel(k => k.ListenAnyIP(5473, l => l.Protocols = HttpProtocols.Http2));   // gRPC: HTTP/2
        builder.Services.AddWatcherSyncRelay(options =>
        {
            var feed = new RelayFeedOptions { Name = "default", BackendFactory = sp => sp.GetRequiredService<IBackendClient>() };
            feed.ResourceTypes.Add(new ResourceType(new PrefixListOptions("/calico/v1/")));
            options.Feeds.Add(feed);
            options.BearerTokens.Add(builder.Configuration["Relay:Token"]!);
        });
        builder.Services.AddHealthChecks().AddWatcherSyncRelay();
        var app = builder.Build();
        app.MapWatcherSyncRelay();
        app.Run();
        // end
    }

    public static void RelayClient(ISyncerCallbacks callbacks, string token)
    {
        // snippet:package_relay
        // ISyncer syncer = new WatcherSyncer(backend, resourceTypes, callbacks);
        ISyncer syncer = new RelaySyncer(new RelaySyncerOptions { Endpoints = { new("https://relay-a:5473"), new("https://relay-b:5473") }, BearerToken = token }, callbacks);
        syncer.Start();
        // end
        _ = syncer.StopAsync();
    }
}
