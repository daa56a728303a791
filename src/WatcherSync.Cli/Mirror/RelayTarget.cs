using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using WatcherSync.Etcd;
using WatcherSync.Relay;

namespace WatcherSync.Cli.Mirror;

/// <summary>The relays <c>watchersync mirror --relay</c> takes its picture from.</summary>
internal sealed record RelayTarget(IReadOnlyList<Uri> Endpoints, string Feed, string? Token)
{
    /// <exception cref="CliException">An address is not an absolute http(s) URL (exit code 2).</exception>
    public static RelayTarget Parse(string urls, string feed, string? token)
    {
        var endpoints = new List<Uri>();
        foreach (string url in urls.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                throw new CliException($"--relay: '{url}' is not an http:// or https:// address.") { ExitCode = ExitCodes.Usage };
            }

            endpoints.Add(uri);
        }

        return new RelayTarget(endpoints, feed, string.IsNullOrEmpty(token) ? null : token);
    }

    /// <summary>Relay syncer options; TLS material comes from the same --cacert, --cert and --key as for etcd.</summary>
    public RelaySyncerOptions CreateOptions(string prefix, EtcdClientOptions tls)
    {
        var options = new RelaySyncerOptions { Feed = Feed, BearerToken = Token, ClientName = $"watchersync-mirror@{Environment.MachineName}" };
        foreach (Uri endpoint in Endpoints)
        {
            options.Endpoints.Add(endpoint);
        }

        if (prefix.Length > 0)
        {
            options.Prefixes.Add(prefix);
        }

        options.ClientCertificate = tls.ClientCertificate;
        if (tls.TrustedCertificateAuthorities is { Count: > 0 } authorities)
        {
            options.ServerCertificateValidation = (_, certificate, _, errors) =>
            {
                if (errors == SslPolicyErrors.None)
                {
                    return true;
                }

                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(new X509Certificate2(certificate));
            };
        }

        return options;
    }
}
