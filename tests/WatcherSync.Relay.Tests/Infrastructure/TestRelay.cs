using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using WatcherSync.Relay.Server;

namespace WatcherSync.Relay.Tests;

/// <summary>A real relay: ASP.NET Core on Kestrel, HTTP/2 on a loopback port (free, or the one given to restart on).</summary>
internal sealed class TestRelay : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestRelay(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    public Uri Address { get; }

    public int Port => Address.Port;

    public RelayHost Host => _app.Services.GetRequiredService<RelayHost>();

    public RelayFeed Feed(string name = "default") => Host.TryGetFeed(name, out RelayFeed? feed) ? feed : throw new InvalidOperationException(name);

    public IServiceProvider Services => _app.Services;

    public RelayServerControl Control => _app.Services.GetRequiredService<RelayServerControl>();

    /// <param name="configure">The relay's options.</param>
    /// <param name="port">The port to listen on; 0 for a free one.</param>
    /// <param name="serverCertificate">The certificate to serve TLS with; null for plain HTTP/2 (h2c).</param>
    /// <param name="protocols">What the endpoint speaks (a relay needs HTTP/2; tests of the misconfiguration change it).</param>
    /// <param name="logs">Where the server's log entries go, at every level; null for none.</param>
    /// <param name="shutdownTimeout">How long the host lets a graceful stop take before it drops every connection; null for its default (30 s).</param>
    public static async Task<TestRelay> StartAsync(Action<RelayServerOptions> configure, int port = 0, X509Certificate2? serverCertificate = null, HttpProtocols protocols = HttpProtocols.Http2, FakeLogCollector? logs = null, TimeSpan? shutdownTimeout = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        if (shutdownTimeout is { } timeout)
        {
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = timeout);
        }

        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(logs));
        }

        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port, listen =>
        {
            listen.Protocols = protocols;
            if (serverCertificate is not null)
            {
                listen.UseHttps(serverCertificate, https =>
                {
                    https.ClientCertificateMode = ClientCertificateMode.AllowCertificate;

                    // The relay's ClientCertificateValidator decides; the handshake only asks for the certificate.
                    https.AllowAnyClientCertificate();
                });
            }
        }));
        builder.Services.AddWatcherSyncRelay(configure);
        builder.Services.AddHealthChecks().AddWatcherSyncRelay();
        WebApplication app = builder.Build();
        app.MapWatcherSyncRelay();
        await app.StartAsync();
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var address = new Uri(bound);
        return new TestRelay(app, new UriBuilder(address) { Host = "127.0.0.1", Scheme = serverCertificate is null ? "http" : "https" }.Uri);
    }

    /// <summary>Stops the relay gracefully, as an orchestrator's SIGTERM does: the relay drains its clients first.</summary>
    public Task StopAsync() => _app.StopAsync(CancellationToken.None);

    /// <summary>Stops the relay at once: connections are dropped without a grace period.</summary>
    public async Task KillAsync()
    {
        using var now = new CancellationTokenSource();
        await now.CancelAsync();
        await _app.StopAsync(now.Token);
        await _app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _app.StopAsync(CancellationToken.None);
        }
        catch (ObjectDisposedException)
        {
        }

        await _app.DisposeAsync();
    }
}
