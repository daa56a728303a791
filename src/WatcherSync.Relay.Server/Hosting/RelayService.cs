using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using WatcherSync.Relay.Protocol;

namespace WatcherSync.Relay.Server;

/// <summary>The gRPC endpoint: checks credentials and the connection limit, then hands the call to a <see cref="RelayConnection"/>.</summary>
internal sealed class RelayService(RelayHost host) : Protocol.Relay.RelayBase
{
    public override async Task Subscribe(IAsyncStreamReader<ClientMessage> requestStream, IServerStreamWriter<ServerMessage> responseStream, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!host.IsRunning || host.Shedder.Draining)
        {
            throw Refuse(context, StatusCode.Unavailable, host.Shedder.Draining ? "The relay is shutting down; try another relay." : "The relay is not running.", "stopped");
        }

        if (Authenticate(context.GetHttpContext()) is { } failure)
        {
            throw Refuse(context, StatusCode.Unauthenticated, failure, "credentials");
        }

        if (!host.Connections.TryEnter())
        {
            throw Refuse(context, StatusCode.ResourceExhausted, $"The relay is full ({host.Connections.Limit} clients); try another relay or back off.", "full");
        }

        try
        {
            using var connection = new RelayConnection(host, requestStream, responseStream, context);
            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            host.Connections.Exit();
        }
    }

    /// <summary>Null when the caller may subscribe, otherwise why not. A bad credential is refused even where anonymous access is allowed.</summary>
    private string? Authenticate(HttpContext http)
    {
        RelayServerOptions options = host.Options;
        string? authorization = http.Request.Headers.Authorization;
        if (!string.IsNullOrEmpty(authorization))
        {
            const string Scheme = "Bearer ";
            if (!authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
            {
                return "Only bearer tokens are accepted in the authorization header.";
            }

            byte[] offered = Encoding.UTF8.GetBytes(authorization[Scheme.Length..].Trim());
            foreach (string token in options.BearerTokens)
            {
                if (CryptographicOperations.FixedTimeEquals(offered, Encoding.UTF8.GetBytes(token)))
                {
                    return null;
                }
            }

            return "The bearer token was not accepted.";
        }

        if (http.Connection.ClientCertificate is X509Certificate2 certificate)
        {
            return options.ClientCertificateValidator is { } validate && validate(certificate)
                ? null
                : "The client certificate was not accepted.";
        }

        return options.AllowAnonymous ? null : "Credentials are required: a bearer token or a client certificate.";
    }

    private RpcException Refuse(ServerCallContext context, StatusCode code, string detail, string reason)
    {
        host.Metrics.Refused(reason);
        // Refused before its hello is read: its name and feed are not known.
        RelayServerLog.ClientRefused(host.Logger, "(before its hello)", context.Peer, "(before its hello)", code, detail);
        return new RpcException(new Status(code, detail));
    }
}
