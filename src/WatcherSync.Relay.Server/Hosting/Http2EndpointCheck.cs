using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;

namespace WatcherSync.Relay.Server;

/// <summary>
/// Once the server listens, asks each of its http(s) addresses for HTTP/2 as a relay client does (prior knowledge on
/// plain http, ALPN on https) and warns when none speaks it: relay clients would then get HTTP_1_1_REQUIRED or hang.
/// Kestrel's default endpoint (Http1AndHttp2) does not do HTTP/2 on plain http, so this is the likeliest mistake.
/// </summary>
internal static class Http2EndpointCheck
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The HTTP/2 client connection preface followed by an empty SETTINGS frame (RFC 9113 section 3.4).</summary>
    private static readonly byte[] Preface = [.. "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8, 0, 0, 0, 4, 0, 0, 0, 0, 0];

    public static async Task RunAsync(IServer server, ILogger logger, CancellationToken cancellationToken)
    {
        ICollection<string> addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var http2 = new List<string>();
        var other = new List<string>();
        foreach (string address in addresses)
        {
            if (!Uri.TryCreate(address, UriKind.Absolute, out Uri? uri) || uri.Host.StartsWith("unix:", StringComparison.Ordinal) || uri.Scheme is not ("http" or "https"))
            {
                continue;
            }

            (await SpeaksHttp2Async(uri, cancellationToken).ConfigureAwait(false) ? http2 : other).Add(address);
        }

        RelayServerLog.Http2Endpoints(logger, string.Join(", ", http2));
        if (http2.Count == 0 && other.Count > 0)
        {
            RelayServerLog.NoHttp2Endpoint(logger, string.Join(", ", other));
        }
    }

    private static async Task<bool> SpeaksHttp2Async(Uri address, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            using var tcp = new TcpClient(AddressFamily.InterNetworkV6) { Client = { DualMode = true } };
            await tcp.ConnectAsync(LoopbackFor(address.Host), address.Port, timeout.Token).ConfigureAwait(false);
            Stream stream = tcp.GetStream();
            if (address.Scheme == Uri.UriSchemeHttps)
            {
                var tls = new SslStream(stream);
                await using (tls.ConfigureAwait(false))
                {
                    await tls.AuthenticateAsClientAsync(
                        new SslClientAuthenticationOptions
                        {
                            TargetHost = address.IdnHost,
                            ApplicationProtocols = [SslApplicationProtocol.Http2],

                            // Only the protocol is asked about here; whether clients trust the certificate is theirs to say.
                            RemoteCertificateValidationCallback = (_, _, _, _) => true,
                        },
                        timeout.Token).ConfigureAwait(false);
                    return tls.NegotiatedApplicationProtocol == SslApplicationProtocol.Http2;
                }
            }

            await stream.WriteAsync(Preface, timeout.Token).ConfigureAwait(false);
            byte[] header = new byte[9];
            await stream.ReadExactlyAsync(header, timeout.Token).ConfigureAwait(false);

            // An HTTP/2 server's first frame is its SETTINGS (type 4); an HTTP/1-only one answers GOAWAY or HTTP/1.1 text.
            return header[3] == 4;
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or System.Security.Authentication.AuthenticationException)
        {
            return false;
        }
    }

    private static IPAddress LoopbackFor(string host) =>
        IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? ip) && !ip.Equals(IPAddress.Any) && !ip.Equals(IPAddress.IPv6Any)
            ? ip
            : IPAddress.Loopback;
}
