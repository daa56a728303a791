using System.Security.Authentication;
using Grpc.Core;

namespace WatcherSync.Etcd.Transport;

/// <summary>
/// Maps gRPC failures (status code plus etcd's error message) onto the <see cref="DatastoreException"/> family, with
/// <see cref="DatastoreException.IsTransient"/> right, whether another endpoint may be tried, and what to do first.
/// Every row is covered by a unit test.
/// </summary>
internal static class EtcdErrors
{
    /// <summary>Maps a failed call of <paramref name="operation"/> on <paramref name="endpoint"/>.</summary>
    /// <param name="error">The failure.</param>
    /// <param name="endpoint">The member the call went to.</param>
    /// <param name="operation">What was asked (get, list, watch, ...).</param>
    /// <param name="user">The configured user, named in auth errors; null when none.</param>
    /// <param name="maxReceiveBytes">The receive limit, named in the too-large error.</param>
    public static EndpointFailure FromRpc(RpcException error, string endpoint, string operation, string? user, int maxReceiveBytes)
    {
        if (FindInner<AuthenticationException>(error.Status.DebugException ?? error) is { } tls)
        {
            // A certificate problem does not go away by retrying: say which setting to look at.
            return new EndpointFailure(
                new DatastoreException($"The TLS handshake with etcd at {endpoint} failed ({tls.Message}); check EtcdClientOptions.TrustedCertificateAuthorities and ClientCertificate.", error),
                notApplied: true);
        }

        if (error.StatusCode == StatusCode.ResourceExhausted && IsMessageTooLarge(error.Status.Detail))
        {
            // A reply over a limit (ours when receiving, etcd's when sending) was produced: etcd processed the request,
            // so a write's outcome is unknown (the transport surfaces it so). A request over etcd's receive limit was
            // refused before anything was done.
            bool replied = IsReplyTooLarge(error.Status.Detail);
            return new EndpointFailure(
                new DatastoreException(
                    $"etcd {operation} at {endpoint} failed: {(replied ? "the reply" : "the request")} was larger than the limit{(replied ? $" of {(maxReceiveBytes >= 1024 * 1024 ? $"{maxReceiveBytes / (1024 * 1024)} MB" : $"{maxReceiveBytes / 1024} KB")}" : string.Empty)} ({error.Status.Detail}).", error),
                notApplied: !replied,
                FailureAction.MessageTooLarge);
        }

        // A connection that never opened carried no request ("Error connecting to subchannel" with the socket error).
        bool notSent = error.StatusCode == StatusCode.Unavailable
            && (FindInner<HttpRequestException>(error.Status.DebugException ?? error) is { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError }
                || error.Status.DebugException is System.Net.Sockets.SocketException
                || (error.Status.Detail?.StartsWith("Error connecting to subchannel", StringComparison.Ordinal) ?? false));
        if (notSent)
        {
            string reason = error.Status.DebugException?.Message is { Length: > 0 } socket ? socket : error.Status.Detail ?? "no connection";
            return new EndpointFailure(new DatastoreUnavailableException($"etcd at {endpoint} is unreachable during {operation}: {reason}", error), notApplied: true);
        }

        return FromMessage(error.StatusCode, error.Status.Detail, endpoint, operation, user, error);
    }

    /// <summary>
    /// Maps etcd's error <paramref name="message"/> (a gRPC status detail, or a watch's cancel_reason with
    /// <see cref="StatusCode.Unknown"/>).
    /// </summary>
    public static EndpointFailure FromMessage(StatusCode code, string? message, string endpoint, string operation, string? user, Exception? inner = null)
    {
        string text = string.IsNullOrEmpty(message) ? code.ToString() : message;
        string what = $"etcd {operation} at {endpoint} failed: {text}";
        string who = user is null ? "no user" : $"user '{user}'";

        if (Has(text, "required revision has been compacted"))
        {
            return new EndpointFailure(new RevisionExpiredException(what, inner), notApplied: true);
        }

        if (Has(text, "future revision"))
        {
            return new EndpointFailure(new RevisionTooLargeException(what, inner), notApplied: true);
        }

        if (Has(text, "invalid auth token") || Has(text, "revision of auth store is old"))
        {
            return new EndpointFailure(new DatastoreException($"etcd at {endpoint} rejected the auth token of {who} during {operation}: {text}", inner), notApplied: true, FailureAction.RenewToken);
        }

        if (Has(text, "authentication is not enabled"))
        {
            return new EndpointFailure(new DatastoreException($"etcd at {endpoint} has authentication turned off: {text}", inner), notApplied: true, FailureAction.AuthNotEnabled);
        }

        if (Has(text, "authentication failed"))
        {
            return new EndpointFailure(new DatastoreException($"etcd at {endpoint} rejected the username or password of {who}: {text}", inner), notApplied: true);
        }

        if (Has(text, "user name is empty"))
        {
            return new EndpointFailure(
                new DatastoreException($"etcd at {endpoint} requires authentication: set EtcdClientOptions.Username and Password ({text}).", inner),
                notApplied: true,
                FailureAction.TokenMissing);
        }

        if (code == StatusCode.PermissionDenied || Has(text, "permission denied"))
        {
            return new EndpointFailure(new DatastoreException($"etcd at {endpoint} refused {operation} for {who}: {text}", inner), notApplied: true);
        }

        if (code == StatusCode.Unauthenticated)
        {
            return new EndpointFailure(new DatastoreException($"etcd at {endpoint} refused {operation} for {who}: {text}", inner), notApplied: true, FailureAction.RenewToken);
        }

        if (Has(text, "requested lease not found"))
        {
            return new EndpointFailure(new ResourceNotFoundException(what, inner), notApplied: true, FailureAction.LeaseNotFound);
        }

        if (Has(text, "database space exceeded"))
        {
            // The NOSPACE alarm stays until an operator compacts, defragments and disarms it: retrying cannot help.
            return new EndpointFailure(new DatastoreException($"{what} (etcd raised its NOSPACE alarm: compact, defragment and disarm it)", inner), notApplied: true);
        }

        if (Has(text, "rpc not supported for learner"))
        {
            // A learner refuses every write and linearizable read in its interceptor, before any proposal: not applied,
            // and a voting member takes it.
            return new EndpointFailure(new DatastoreUnavailableException(what, inner), notApplied: true);
        }

        if (Has(text, "no leader") || Has(text, "not capable") || Has(text, "too many requests") || Has(text, "raft proposal dropped"))
        {
            // Refused before anything was applied: safe to send elsewhere, and again after a short backoff. "raft
            // proposal dropped" (gRPC Unknown) comes while leadership is handed over: every graceful stop of a leader.
            return new EndpointFailure(new DatastoreUnavailableException(what, inner), notApplied: true, retryLater: true);
        }

        if (code is StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.ResourceExhausted or StatusCode.Aborted or StatusCode.Cancelled
            || Has(text, "leader changed") || Has(text, "request timed out"))
        {
            // ResourceExhausted that is not a too-large message is a GOAWAY (ENHANCE_YOUR_CALM): the connection goes, etcd stays.
            // Cancelled never comes from the caller here (the transport reports that cancel itself, before mapping):
            // the server or a proxy reset the stream (RST_STREAM CANCEL) after the request may have been applied.
            return new EndpointFailure(new DatastoreUnavailableException(what, inner), notApplied: false);
        }

        if (code == StatusCode.Internal && inner is not null && (FindInner<IOException>(inner) is not null || FindInner<HttpRequestException>(inner) is not null))
        {
            return new EndpointFailure(new DatastoreUnavailableException($"The connection to etcd at {endpoint} broke during {operation}: {text}", inner), notApplied: false);
        }

        if (code == StatusCode.Unimplemented)
        {
            return new EndpointFailure(new OperationNotSupportedException(what, inner), notApplied: true);
        }

        if (code == StatusCode.NotFound)
        {
            return new EndpointFailure(new ResourceNotFoundException(what, inner), notApplied: true);
        }

        return new EndpointFailure(code == StatusCode.OutOfRange ? new RevisionTooLargeException(what, inner) : new DatastoreException(what, inner), notApplied: true);
    }

    /// <summary>Maps a request that outlived <see cref="EtcdClientOptions.RequestTimeout"/>.</summary>
    public static DatastoreUnavailableException Timeout(string endpoint, string operation, TimeSpan timeout, Exception? inner = null) =>
        new($"etcd {operation} at {endpoint} timed out after {timeout.TotalSeconds:0.###} s.", inner);

    /// <summary>
    /// Whether a ResourceExhausted status is a message over a size limit (ours when receiving, etcd's when it
    /// receives) rather than a GOAWAY for pinging too often, which arrives with the same code.
    /// </summary>
    public static bool IsMessageTooLarge(string? detail) =>
        detail is not null
        && (Has(detail, "maximum configured message size") || Has(detail, "larger than max") || Has(detail, "message too large") || Has(detail, "exceeds the maximum"));

    /// <summary>
    /// Whether a too-large status is about the reply (Grpc.Net.Client receiving it, or etcd sending it), which proves
    /// etcd processed the request, rather than about the request (etcd refusing to receive it).
    /// </summary>
    public static bool IsReplyTooLarge(string? detail) =>
        detail is not null && (Has(detail, "Received message exceeds") || Has(detail, "trying to send message larger than max"));

    /// <summary>Whether a mapped error is a reply over the receive limit.</summary>
    public static bool IsMessageTooLarge(DatastoreException error) =>
        error.InnerException is RpcException { StatusCode: StatusCode.ResourceExhausted } rpc && IsMessageTooLarge(rpc.Status.Detail);

    /// <summary>Whether a mapped error says the lease of a write does not exist.</summary>
    public static bool IsLeaseNotFound(DatastoreException error) => error is ResourceNotFoundException && Has(error.Message, "requested lease not found");

    private static bool Has(string text, string part) => text.Contains(part, StringComparison.OrdinalIgnoreCase);

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
