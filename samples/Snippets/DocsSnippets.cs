using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using WatcherSync.Relay;
using WatcherSync.Relay.Server;

namespace WatcherSync.Snippets;

/// <summary>The examples of docs/*.md (see Snippets.csproj for how they are checked).</summary>
public static class DocsSnippets
{
    public static async Task HostingHostAsync(string[] args)
    {
        // snippet:hosting_host
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddWatcherSync(builder.Configuration.GetSection("WatcherSync"))
            .AddBufferedSink<MirrorSink>();             // your ISyncerCallbacks, behind a DedupeBuffer
        builder.Services.AddHealthChecks().AddWatcherSync(tags: ["ready"]);
        await builder.Build().RunAsync();
        // end
    }

    public static void HostingBuilder(IServiceCollection services)
    {
        // snippet:hosting_builder
        services.AddWatcherSync(o => o.Syncer.Name = "pods")
            .UseEtcd(o => o.Endpoints.Add("http://127.0.0.1:2379"))   // default: UseInMemoryBackend()
            .AddPrefix("/registry/pods/")
            .AddResourceType(new ResourceType(new PrefixListOptions("/registry/nodes/"), new MyProcessor()))
            .AddSink<AuditSink>()                                        // behind a DedupeBuffer of its own
            .AddBufferedSink<SlowSink>(b => b.BatchSize = 500);          // the same, its failure stops the host
        // end
    }

    public static void HostingNamed(HostApplicationBuilder builder)
    {
        // snippet:hosting_named
        builder.Services.AddWatcherSync("pods", builder.Configuration.GetSection("Pods"))   // named options
            .AddPrefix("/registry/pods/")
            .AddSink<AuditSink>();
        builder.Services.AddWatcherSync("nodes", o => o.Prefixes.Add("/registry/nodes/"))
            .AddBufferedSink<SlowSink>();
        builder.Services.AddHealthChecks()
            .AddWatcherSync("pods", syncer: "pods", failureStatus: null, tags: ["ready"])
            .AddWatcherSync("nodes", syncer: "nodes", failureStatus: null, tags: ["ready"]);
        // resolve one: [FromKeyedServices("pods")] WatcherSyncer pods, or SharedWatcherSyncer to add handlers at run time
        // end
    }

    public static void HostingRelay(HostApplicationBuilder builder)
    {
        // snippet:hosting_relay
        builder.Services.AddWatcherSync(o => o.Syncer.Name = "felix")
            .AddPrefix("/calico/v1/host/")                                 // the prefixes asked of the relay
            .UseRelay(o => o.Endpoints.Add(new Uri("http://relay-0:5473")))  // instead of the datastore
            .AddBufferedSink<MirrorSink>();
        builder.Services.AddWatcherSync("policy", o => o.Prefixes.Add("/calico/v1/policy/"))
            .UseRelay(builder.Configuration.GetSection("Relay"))            // Endpoints, Feed, BearerToken, ...
            .AddSink<AuditSink>();
        builder.Services.AddHealthChecks().AddWatcherSync(tags: ["ready"]);
        // end
    }

    public static void MetricsOpenTelemetry(HostApplicationBuilder builder)
    {
        // snippet:metrics_opentelemetry
        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter(WatcherSyncMeter.Name).AddConsoleExporter());   // or your exporter
        // end
    }

    public static void RelayServer(string[] args, X509Certificate2 serverCertificate, Func<X509Certificate2, bool> IssuedByOurCa)
    {
        // snippet:relay_server
        WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
        builder.WebHost.ConfigureKestrel(k => k.ListenAnyIP(5473, l =>
        {
            l.Protocols = HttpProtocols.Http2;
            l.UseHttps(serverCertificate, https =>
            {
                // Client certificates of a private CA: the handshake takes any, ClientCertificateValidator judges it.
                https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;
                https.AllowAnyClientCertificate();
            });
        }));
        builder.Services.AddWatcherSyncRelay(options =>
        {
            var feed = new RelayFeedOptions { Name = "felix", BackendFactory = sp => sp.GetRequiredService<IBackendClient>() };
            feed.ResourceTypes.Add(new ResourceType(new PrefixListOptions("/calico/v1/host/")));
            feed.ResourceTypes.Add(new ResourceType(new PrefixListOptions("/calico/v1/policy/"), new PolicyProcessor()));
            options.Feeds.Add(feed);
            options.ClientCertificateValidator = cert => IssuedByOurCa(cert);
        });
        builder.Services.AddHealthChecks().AddWatcherSyncRelay();
        WebApplication app = builder.Build();
        app.MapWatcherSyncRelay();
        app.MapHealthChecks("/healthz");
        app.Run();
        // end
    }

    public static ISyncer RelayFeedClient(ISyncerCallbacks callbacks)
    {
        // snippet:relay_feed_client
        // ISyncer syncer = new WatcherSyncer(backend, resourceTypes, callbacks);
        ISyncer syncer = new RelaySyncer(new RelaySyncerOptions { Endpoints = { new("https://relay-a:5473"), new("https://relay-b:5473") }, Feed = "felix" }, callbacks);
        // end
        return syncer;
    }

    public static async Task SharedSyncerAsync(IBackendClient client, ISyncerCallbacks podCache, ISyncerCallbacks auditSink, CancellationToken cancellationToken)
    {
        // snippet:syncer_shared
        await using var shared = new SharedWatcherSyncer(client, [new ResourceType(new PrefixListOptions("/registry/pods/"))]);
        shared.Start();
        SyncerHandlerRegistration cache = shared.AddHandler(podCache);
        await cache.WaitForSyncedAsync(cancellationToken);          // podCache holds the whole picture
        // Later, while it runs: a handler added now gets the picture from memory, then live updates.
        await using SyncerHandlerRegistration audit = shared.AddHandler(auditSink, new SyncerHandlerOptions { DeleteOnRemove = false });
        // end
    }
}
