using System.Net.Http;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace WatcherSync.Relay;

/// <summary>
/// Tells whether an <c>http://</c> endpoint is in fact a TLS server. A gRPC call in plain HTTP/2 to a TLS port gets no
/// answer at all: the server waits for a TLS ClientHello and the client for the server's HTTP/2 settings, so neither
/// side errs, and the client would only ever see silence. When a call to an <c>http://</c> endpoint has heard nothing
/// for <see cref="Delay"/>, the client opens a second connection and starts a TLS handshake (the framework's
/// <see cref="SslStream"/>, which sends a real ClientHello); a server that presents a certificate speaks TLS, and the
/// client reports that as a refusal ("use https://") instead of retrying in silence. A plain HTTP/2 server answers
/// the ClientHello with a protocol error and closes: not TLS, nothing is reported, the call goes on.
/// </summary>
internal static class TlsProbe
{
    /// <summary>How long a call to an <c>http://</c> endpoint may hear nothing before the endpoint is probed.</summary>
    public static readonly TimeSpan Delay = TimeSpan.FromSeconds(1);

    /// <summary>How long the probe may take: a TLS server answers a ClientHello at once.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// After a call to <paramref name="endpoint"/> ended before the relay said anything: whether it is an <c>http://</c>
    /// endpoint that speaks TLS. Asked only after an HTTP/2 transport error: not when nothing listens there (the
    /// connection itself failed), nor when the relay answered with a status (it speaks plain HTTP/2).
    /// </summary>
    public static Task<bool> MightBeTlsAsync(Uri endpoint, Exception error, TimeProvider time, CancellationToken cancellationToken)
    {
        if (endpoint.Scheme != Uri.UriSchemeHttp || cancellationToken.IsCancellationRequested || !TransportFailed(error))
        {
            return Task.FromResult(false);
        }

        return SpeaksTlsAsync(endpoint, time, cancellationToken);
    }

    /// <summary>
    /// Beside a call to an <c>http://</c> endpoint that has said nothing for <see cref="Delay"/>: whether it is a TLS
    /// server (which never answers plain HTTP/2). If so, the session ends as refused, with what to change.
    /// </summary>
    /// <param name="endpoint">The endpoint of the call.</param>
    /// <param name="session">The call's session: read for whether the relay answered, written with the refusal.</param>
    /// <param name="connection">Cancelled when the call ends; cancelled by the check when it finds TLS.</param>
    /// <param name="time">The clock of the delay and the probe's timeout.</param>
    public static async Task WatchAsync(Uri endpoint, RelaySession session, CancellationTokenSource connection, TimeProvider time)
    {
        try
        {
            await Task.Delay(Delay, time, connection.Token).ConfigureAwait(false);
            // Heard before or during the probe: the relay answers plain HTTP/2 here, whatever else the port speaks.
            if (session.Heard || !await SpeaksTlsAsync(endpoint, time, connection.Token).ConfigureAwait(false) || session.Heard)
            {
                return;
            }

            session.Refused = Refusal(endpoint);
            await connection.CancelAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The connection ended first (or answered): nothing to tell.
        }
    }

    /// <summary>The refusal for an <c>http://</c> endpoint that speaks TLS: what to write instead.</summary>
    public static RelayRefusedException Refusal(Uri endpoint) =>
        new(endpoint, $"it speaks TLS (https), not plain HTTP/2: use {new UriBuilder(endpoint) { Scheme = Uri.UriSchemeHttps, Port = endpoint.Port }.Uri} as the endpoint.");

    /// <summary>Whether the call failed in the HTTP/2 transport after the TCP connection was made.</summary>
    private static bool TransportFailed(Exception error)
    {
        bool transport = false;

        // gRPC keeps the transport's exception as the status's DebugException, not as the inner exception; a status the
        // relay sent has none.
        for (Exception? e = error; e is not null; e = e is Grpc.Core.RpcException rpc ? rpc.Status.DebugException : e.InnerException)
        {
            if (e is HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError } or SocketException)
            {
                return false;
            }

            transport |= e is HttpRequestException or IOException;
        }

        return transport;
    }

    /// <summary>Whether the server at <paramref name="endpoint"/> answers a TLS ClientHello with a certificate.</summary>
    /// <returns>True when it does; false when it does not, or when it cannot be reached or does not answer in time.</returns>
    public static async Task<bool> SpeaksTlsAsync(Uri endpoint, TimeProvider time, CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        bool presented = false;
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(endpoint.DnsSafeHost, endpoint.Port, linked.Token).ConfigureAwait(false);
            using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
            var options = new SslClientAuthenticationOptions
            {
                TargetHost = endpoint.IdnHost,
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    // Only whether a certificate came back matters; the handshake is abandoned either way.
                    presented = certificate is not null;
                    return false;
                },
            };
            await tls.AuthenticateAsClientAsync(options, linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or SocketException or OperationCanceledException)
        {
            // Refused by our own callback (a TLS server), or no TLS server at all: the answer is in 'presented'.
        }

        return presented;
    }
}
