using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using WatcherSync.Cli.Demo;
using WatcherSync.Etcd;
using WatcherSync.InMemory;
using WatcherSync.Relay.Server;

namespace WatcherSync.Cli.Relay;

/// <summary>
/// <c>watchersync relay</c>: runs a relay server (Kestrel, HTTP/2) with one feed over etcd or the demo's embedded
/// store until Ctrl+C, printing where it listens and its feed's status changes to stderr.
/// </summary>
internal sealed class RelayRun(RelaySettings settings, EtcdClientOptions? etcd, CliConsole console)
{
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        if (!settings.AllowAnonymous && settings.Tokens.Count == 0 && settings.ClientCertificateAuthorities is null)
        {
            throw new CliException("The relay would refuse every client: give --token, --client-ca or --allow-anonymous.") { ExitCode = ExitCodes.Usage };
        }

        X509Certificate2? serverCertificate = LoadServerCertificate();
        X509Certificate2Collection? clientAuthorities = Commands.EtcdConnectionOptions.LoadAuthorities(settings.ClientCertificateAuthorities, "--client-ca");
        await using IBackendClient backend = settings.Demo ? new InMemoryBackend() : new EtcdBackendClient(etcd!);
        IReadOnlyList<string> prefixes = settings.Prefixes.Count > 0 ? settings.Prefixes : settings.Demo ? KeySpace.WatchedPrefixes : ["/"];
        using var demo = new CancellationTokenSource();
        Task writing = Task.CompletedTask;
        if (backend is InMemoryBackend store)
        {
            var keys = new KeySpace(settings.DemoKeys);
            var counters = new WriteCounters();
            DemoWriter[] writers = [.. Enumerable.Range(0, 2).Select(i => new DemoWriter(store, keys, i, 2, 1, counters))];
            foreach (DemoWriter writer in writers)
            {
                await writer.LoadAsync(cancellationToken);
            }

            writing = Task.WhenAll(writers.Select(w => w.RunAsync(demo.Token)));
        }
        else
        {
            try
            {
                await backend.EnsureInitializedAsync(cancellationToken);
            }
            catch (DatastoreException ex)
            {
                throw new CliException(Commands.EtcdConnectionOptions.Flags(ex.Message), ex);
            }
        }

        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(Endpoint(settings.Listen), listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (serverCertificate is not null)
            {
                listen.UseHttps(serverCertificate, https =>
                {
                    https.ClientCertificateMode = clientAuthorities is null ? ClientCertificateMode.NoCertificate : ClientCertificateMode.AllowCertificate;
                    https.AllowAnyClientCertificate();
                });
            }
        }));
        builder.Services.AddWatcherSyncRelay(options =>
        {
            var feed = new RelayFeedOptions { Name = settings.Feed, Backend = backend };
            foreach (string prefix in prefixes)
            {
                feed.ResourceTypes.Add(new ResourceType(new PrefixListOptions(prefix)));
            }

            options.Feeds.Add(feed);
            options.AllowAnonymous = settings.AllowAnonymous;
            options.MaxConnections = settings.MaxConnections;
            foreach (string token in settings.Tokens)
            {
                options.BearerTokens.Add(token);
            }

            if (clientAuthorities is not null)
            {
                options.ClientCertificateValidator = certificate => ChainsTo(certificate, clientAuthorities);
            }
        });
        await using WebApplication app = builder.Build();
        app.MapWatcherSyncRelay();
        await app.StartAsync(cancellationToken);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        await console.Error.WriteLineAsync($"relay: serving feed '{settings.Feed}' ({string.Join(", ", prefixes)}) of {(settings.Demo ? "the demo store" : string.Join(",", etcd!.Endpoints))} on {address}");
        try
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, TimeProvider.System, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C is how a relay ends.
        }

        await demo.CancelAsync();
        await writing;
        await app.StopAsync(CancellationToken.None);
        return ExitCodes.Success;
    }

    private static IPEndPoint Endpoint(Uri listen)
    {
        int port = listen.Port;
        if (listen.Host is "localhost" or "127.0.0.1")
        {
            return new IPEndPoint(IPAddress.Loopback, port);
        }

        // An IPv4-mapped IPv6 address (::ffff:127.0.0.1) names an IPv4 address: an IPv6 socket cannot bind it
        // ("Invalid argument"), so it is bound as the IPv4 address it maps.
        return IPAddress.TryParse(listen.Host.Trim('[', ']'), out IPAddress? ip)
            ? new IPEndPoint(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip, port)
            : throw new CliException($"--listen: '{listen.Host}' is not an IP address or localhost.") { ExitCode = ExitCodes.Usage };
    }

    /// <summary>Whether <paramref name="certificate"/> is a client certificate issued under one of <paramref name="authorities"/>.</summary>
    internal static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection authorities)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;

        // Meant for client authentication: an authority also signs servers' certificates (other relays', etcd's), and
        // those are no client credential. A certificate that names no extended key usage is valid for any (RFC 5280).
        chain.ChainPolicy.ApplicationPolicy.Add(Oid.FromOidValue("1.3.6.1.5.5.7.3.2", OidGroup.EnhancedKeyUsage));
        return chain.Build(certificate);
    }

    private X509Certificate2? LoadServerCertificate()
    {
        if (settings.TlsCertificate is null || settings.TlsKey is null)
        {
            return null;
        }

        try
        {
            using X509Certificate2 pem = X509Certificate2.CreateFromPemFile(settings.TlsCertificate.FullName, settings.TlsKey.FullName);

            // Through PKCS#12 so that SslStream can use the key on every platform.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new CliException($"--tls-cert/--tls-key: cannot load the relay's certificate: {ex.Message}", ex) { ExitCode = ExitCodes.Usage };
        }
    }
}
