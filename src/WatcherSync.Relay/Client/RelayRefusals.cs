using System.Net.Http;
using System.Security.Authentication;
using Grpc.Core;

namespace WatcherSync.Relay;

/// <summary>
/// Tells a refusal that retrying cannot cure (until the client or the relay is reconfigured) from a failure that may
/// heal by itself (a relay down, restarting, full, cut off, silent). A refusal is the relay's answer (credentials, feed,
/// prefix, protocol version, no relay service at the address) or a transport that can never carry the call as
/// configured (an untrusted certificate, TLS against plain HTTP or the reverse, an endpoint without HTTP/2).
/// </summary>
internal static class RelayRefusals
{
    /// <summary>The HTTP/2 error code a server sends when it will only speak HTTP/1.1 (RFC 9113 section 7).</summary>
    private const long Http11Required = 0xd;

    /// <summary>The refusal <paramref name="error"/> is, or null when it may heal by itself.</summary>
    public static RelayRefusedException? Classify(Uri endpoint, Exception error)
    {
        Exception transport = error;
        if (error is RpcException rpc)
        {
            if (rpc.Status.DebugException is null)
            {
                return rpc.StatusCode switch
                {
                    StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.NotFound or StatusCode.InvalidArgument
                        => new RelayRefusedException(endpoint, Sentence(rpc.Status.Detail), error),
                    StatusCode.Unimplemented
                        => new RelayRefusedException(endpoint, $"nothing at this address serves the relay protocol ({Sentence(rpc.Status.Detail)}) Check the address and path.", error),
                    _ => null,
                };
            }

            transport = rpc.Status.DebugException;
        }

        for (Exception? cause = transport; cause is not null; cause = cause.InnerException)
        {
            switch (cause)
            {
                case HttpProtocolException { ErrorCode: Http11Required }:
                    return new RelayRefusedException(endpoint, "the endpoint does not speak HTTP/2 (it answered HTTP_1_1_REQUIRED). A relay needs HTTP/2: on plain http the endpoint must be set to HttpProtocols.Http2.", error);
                case AuthenticationException when endpoint.Scheme == Uri.UriSchemeHttps && IsCertificateError(cause):
                    return new RelayRefusedException(endpoint, $"its TLS certificate is not trusted ({Sentence(cause.Message).TrimEnd('.')}). Trust the authority that issued it (RelaySyncerOptions.ServerCertificateValidation; --cacert for the CLI).", error);
                case AuthenticationException when endpoint.Scheme == Uri.UriSchemeHttps:
                    return new RelayRefusedException(endpoint, $"the TLS handshake failed ({Sentence(cause.Message).TrimEnd('.')}). Does the relay serve https at this address, or plain http?", error);
            }
        }

        return null;
    }

    private static bool IsCertificateError(Exception error) =>
        error.Message.Contains("certificate", StringComparison.OrdinalIgnoreCase);

    private static string Sentence(string text)
    {
        text = text.Trim();
        return text.Length == 0 || text.EndsWith('.') ? text : text + ".";
    }
}
