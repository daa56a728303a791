using System.Net;
using System.Security.Authentication;

namespace WatcherSync.Etcd.Gateway;

/// <summary>Turns gateway failures into the <see cref="DatastoreException"/> family, with <see cref="DatastoreException.IsTransient"/> right.</summary>
internal static class EtcdErrors
{
    // gRPC status codes as the gateway reports them in "code".
    private const int DeadlineExceeded = 4;
    private const int NotFound = 5;
    private const int PermissionDenied = 7;
    private const int ResourceExhausted = 8;
    private const int OutOfRange = 11;
    private const int Unavailable = 14;
    private const int Unauthenticated = 16;

    /// <summary>Whether the server says the auth token is invalid or expired (authenticate again and retry once).</summary>
    public static bool IsInvalidToken(int code, string? message) =>
        code == Unauthenticated || (message?.Contains("invalid auth token", StringComparison.Ordinal) ?? false);

    /// <summary>Maps an error reply (or a mid-stream error) of <paramref name="endpoint"/>.</summary>
    public static DatastoreException FromReply(HttpStatusCode status, int code, string? message, string endpoint, string operation)
    {
        string text = string.IsNullOrEmpty(message) ? $"HTTP {(int)status}" : message;
        string what = $"etcd {operation} at {endpoint} failed: {text}";
        if (text.Contains("required revision has been compacted", StringComparison.Ordinal))
        {
            return new RevisionExpiredException(what);
        }

        if (text.Contains("future revision", StringComparison.Ordinal))
        {
            return new RevisionTooLargeException(what);
        }

        if (code is Unavailable or DeadlineExceeded or ResourceExhausted
            || status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout or HttpStatusCode.BadGateway or HttpStatusCode.TooManyRequests
            || text.Contains("no leader", StringComparison.Ordinal)
            || text.Contains("leader changed", StringComparison.Ordinal)
            || text.Contains("request timed out", StringComparison.Ordinal)
            || text.Contains("not capable", StringComparison.Ordinal))
        {
            return new DatastoreUnavailableException(what);
        }

        if (text.Contains("authentication failed", StringComparison.Ordinal))
        {
            return new DatastoreException($"etcd at {endpoint} rejected the username or password: {text}");
        }

        if (text.Contains("user name is empty", StringComparison.Ordinal))
        {
            return new DatastoreException($"etcd at {endpoint} requires authentication: set EtcdClientOptions.Username and Password ({text}).");
        }

        if (code is PermissionDenied or Unauthenticated || status is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            return new DatastoreException($"etcd at {endpoint} refused {operation}: {text}");
        }

        if (code == NotFound)
        {
            return new ResourceNotFoundException(what);
        }

        return code == OutOfRange ? new RevisionTooLargeException(what) : new DatastoreException(what);
    }

    /// <summary>
    /// Maps a failure to reach <paramref name="endpoint"/> at all; <paramref name="notSent"/> is set when the request
    /// certainly never reached the server (safe to send elsewhere).
    /// </summary>
    public static DatastoreException FromTransport(HttpRequestException error, string endpoint, string operation, out bool notSent)
    {
        notSent = error.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError;
        if (FindInner<AuthenticationException>(error) is { } tls)
        {
            // A certificate problem does not go away by retrying: say which setting to look at.
            notSent = true;
            return new DatastoreException(
                $"The TLS handshake with etcd at {endpoint} failed ({tls.Message}); check EtcdClientOptions.TrustedCertificateAuthorities and ClientCertificate.", error);
        }

        return new DatastoreUnavailableException($"etcd at {endpoint} is unreachable during {operation}: {error.Message}", error);
    }

    /// <summary>Maps a request that outlived <see cref="EtcdClientOptions.RequestTimeout"/>.</summary>
    public static DatastoreUnavailableException Timeout(string endpoint, string operation, TimeSpan timeout, Exception? inner = null) =>
        new($"etcd {operation} at {endpoint} timed out after {timeout.TotalSeconds:0.###} s.", inner);

    private static T? FindInner<T>(Exception error)
        where T : Exception
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e is T found)
            {
                return found;
            }
        }

        return null;
    }
}
