using Microsoft.Extensions.Logging;

namespace WatcherSync.Etcd.Diagnostics;

/// <summary>The etcd backend's log messages (event ids 3000–3099). Values, passwords and tokens are never logged.</summary>
internal static partial class Log
{
    [LoggerMessage(3000, LogLevel.Warning, "etcd endpoint {Endpoint} failed during {Operation}: {Reason}")]
    public static partial void EndpointFailed(ILogger logger, string endpoint, string operation, string reason);

    [LoggerMessage(3020, LogLevel.Warning, "etcd endpoint {Endpoint} still failing, last during {Operation}: {Reason}; {Repeats} more failures in the last {Window} not logged")]
    public static partial void EndpointStillFailing(ILogger logger, string endpoint, string operation, string reason, int repeats, TimeSpan window);

    [LoggerMessage(3021, LogLevel.Information, "etcd endpoint {Endpoint} answers again, after {Repeats} more failures not logged")]
    public static partial void EndpointRecovered(ILogger logger, string endpoint, int repeats);

    [LoggerMessage(3001, LogLevel.Information, "etcd client moved from endpoint {From} to {To}")]
    public static partial void FailedOver(ILogger logger, string from, string to);

    [LoggerMessage(3002, LogLevel.Debug, "Authenticated to etcd at {Endpoint} as user {User}")]
    public static partial void Authenticated(ILogger logger, string endpoint, string user);

    [LoggerMessage(3003, LogLevel.Information, "etcd at {Endpoint} rejected the auth token; authenticating again")]
    public static partial void TokenRejected(ILogger logger, string endpoint);

    [LoggerMessage(3004, LogLevel.Debug, "Watch on {Prefix} connected to {Endpoint} from revision {StartRevision}")]
    public static partial void WatchConnected(ILogger logger, string prefix, string endpoint, long startRevision);

    [LoggerMessage(3005, LogLevel.Warning, "Watch on {Prefix} broke after revision {Revision}; reconnecting: {Reason}")]
    public static partial void WatchReconnecting(ILogger logger, string prefix, long revision, string reason);

    [LoggerMessage(3006, LogLevel.Warning, "The watch stream from etcd at {Endpoint} {Reason}; treating it as dead")]
    public static partial void WatchStreamDead(ILogger logger, string endpoint, string reason);

    [LoggerMessage(3007, LogLevel.Debug, "Watch on {Prefix} dropped {Count} replayed events at or below revision {Revision}")]
    public static partial void ReplayDropped(ILogger logger, string prefix, int count, long revision);

    [LoggerMessage(3008, LogLevel.Warning, "Watch on {Prefix} ended: {Reason}")]
    public static partial void WatchEnded(ILogger logger, string prefix, string reason);

    [LoggerMessage(3009, LogLevel.Warning, "The value of key {Key} cannot be decoded; it is passed on as an InvalidValue ({Reason})")]
    public static partial void ValueNotDecoded(ILogger logger, string key, string reason);

    [LoggerMessage(3010, LogLevel.Warning, "Keepalive of the client lease {LeaseId} failed: {Reason}")]
    public static partial void KeepAliveFailed(ILogger logger, long leaseId, string reason);

    [LoggerMessage(3011, LogLevel.Warning, "The client lease {LeaseId} expired; keys written with it are gone and a new lease will be granted")]
    public static partial void ClientLeaseLost(ILogger logger, long leaseId);

    [LoggerMessage(3012, LogLevel.Debug, "Could not revoke lease {LeaseId}: {Reason}")]
    public static partial void RevokeFailed(ILogger logger, long leaseId, string reason);

    [LoggerMessage(3013, LogLevel.Debug, "Listed {Count} keys under {Prefix} in {Pages} pages at revision {Revision}")]
    public static partial void Listed(ILogger logger, int count, string prefix, int pages, long revision);

    [LoggerMessage(3015, LogLevel.Warning, "etcd at {Endpoint} has authentication turned off; user {User} is not used")]
    public static partial void AuthNotEnabled(ILogger logger, string endpoint, string user);

    [LoggerMessage(3016, LogLevel.Warning, "The client lease {LeaseId} is gone on the server; granting a new one and writing again")]
    public static partial void ClientLeaseGone(ILogger logger, long leaseId);

    [LoggerMessage(3017, LogLevel.Debug, "Watch stream to {Endpoint} opened")]
    public static partial void WatchStreamOpened(ILogger logger, string endpoint);

    [LoggerMessage(3018, LogLevel.Debug, "Watch stream to {Endpoint} ended: {Reason}")]
    public static partial void WatchStreamEnded(ILogger logger, string endpoint, string reason);

    [LoggerMessage(3019, LogLevel.Debug, "A list page of {Limit} keys under {Prefix} was larger than the receive limit; asking for {Smaller}")]
    public static partial void ListPageHalved(ILogger logger, int limit, string prefix, int smaller);

    [LoggerMessage(3014, LogLevel.Warning, "Watch on {Prefix} had delivered revision {Seen} but etcd is at revision {Current}: the store went backwards")]
    public static partial void RevisionWentBackwards(ILogger logger, string prefix, long seen, long current);
}
