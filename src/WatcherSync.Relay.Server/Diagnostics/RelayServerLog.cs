using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace WatcherSync.Relay.Server;

/// <summary>Log messages of the relay server (event ids 7000-7099). Tokens and values are never logged.</summary>
internal static partial class RelayServerLog
{
    [LoggerMessage(7000, LogLevel.Information, "Relay feed {Feed}: status {Status}")]
    public static partial void FeedStatus(ILogger logger, string feed, SyncStatus status);

    [LoggerMessage(7001, LogLevel.Error, "Relay feed {Feed}: could not encode the value of {Key}; clients hear the key deleted")]
    public static partial void EncodeFailed(ILogger logger, string feed, string key, Exception error);

    [LoggerMessage(7002, LogLevel.Error, "Relay feed {Feed}: lost the datastore")]
    public static partial void FeedSyncFailed(ILogger logger, string feed, Exception error);

    [LoggerMessage(7003, LogLevel.Warning, "Relay feed {Feed}: could not parse key {RawKey}")]
    public static partial void FeedParseFailed(ILogger logger, string feed, string rawKey);

    [LoggerMessage(7004, LogLevel.Debug, "Relay feed {Feed}: snapshot at sequence {Sequence} encoded: {Keys} keys, {Bytes} bytes")]
    public static partial void SnapshotEncoded(ILogger logger, string feed, long sequence, int keys, long bytes);

    [LoggerMessage(7005, LogLevel.Information, "Relay: client {Client} at {Peer} subscribed to feed {Feed}")]
    public static partial void ClientSubscribed(ILogger logger, string client, string peer, string feed);

    [LoggerMessage(7006, LogLevel.Information, "Relay: client {Client} at {Peer} left")]
    public static partial void ClientLeft(ILogger logger, string client, string peer);

    [LoggerMessage(7007, LogLevel.Warning, "Relay: refused client {Client} at {Peer}, feed {Feed}: {Code} {Detail}")]
    public static partial void ClientRefused(ILogger logger, string client, string peer, string feed, StatusCode code, string detail);

    [LoggerMessage(7008, LogLevel.Warning, "Relay: cut off client {Client} at {Peer}: {Code} {Detail}")]
    public static partial void ClientCutOff(ILogger logger, string client, string peer, StatusCode code, string detail);

    [LoggerMessage(7009, LogLevel.Information, "Relay: feed {Feed} started over {Prefixes}")]
    public static partial void FeedStarted(ILogger logger, string feed, string prefixes);

    [LoggerMessage(7011, LogLevel.Error, "Relay feed {Feed}: the value of {Key} is {Bytes} bytes, more than MaxValueBytes ({Limit}); clients hear the key deleted")]
    public static partial void ValueTooLarge(ILogger logger, string feed, string key, int bytes, int limit);

    [LoggerMessage(7012, LogLevel.Warning, "Relay feed {Feed}: the datastore was reset (a revision went back or names other bytes); its epoch is now {Epoch}, and clients of the earlier one take a snapshot")]
    public static partial void DatastoreReset(ILogger logger, string feed, string epoch);

    [LoggerMessage(7013, LogLevel.Information, "Relay: client {Client} at {Peer} continued on feed {Feed} from sequence {Sequence} (found by {By}) without a snapshot")]
    public static partial void ClientResumed(ILogger logger, string client, string peer, string feed, long sequence, string by);

    [LoggerMessage(7014, LogLevel.Warning, "Relay: no endpoint of this server speaks HTTP/2 ({Addresses}); relay clients cannot connect. Set HttpProtocols.Http2 on the endpoint (plain http does HTTP/2 only so), or serve https")]
    public static partial void NoHttp2Endpoint(ILogger logger, string addresses);

    [LoggerMessage(7015, LogLevel.Debug, "Relay: endpoints that speak HTTP/2: {Addresses}")]
    public static partial void Http2Endpoints(ILogger logger, string addresses);

    [LoggerMessage(7016, LogLevel.Debug, "Relay: client {Client} at {Peer} waits for its turn to receive a snapshot ({InFlight} of at most {Limit} being sent, {Waiting} waiting)")]
    public static partial void WaitingForSnapshot(ILogger logger, string client, string peer, int inFlight, int limit, int waiting);

    [LoggerMessage(7017, LogLevel.Information, "Relay: connection limit set to {Limit} ({Count} connected); clients past it are moved to other relays, {Batch} every {Interval}")]
    public static partial void ConnectionLimitSet(ILogger logger, int limit, int count, int batch, TimeSpan interval);

    [LoggerMessage(7018, LogLevel.Information, "Relay: moved client {Client} at {Peer} to another relay ({Reason}): {Code} {Detail}")]
    public static partial void ClientMovedAway(ILogger logger, string client, string peer, string reason, StatusCode code, string detail);

    [LoggerMessage(7019, LogLevel.Information, "Relay: stopping; moving {Count} clients to other relays over {DrainTime}")]
    public static partial void Draining(ILogger logger, int count, TimeSpan drainTime);

    [LoggerMessage(7020, LogLevel.Warning, "Relay: the shutdown drain time is over; the {Count} clients still connected are ended at once")]
    public static partial void DrainOver(ILogger logger, int count);

    [LoggerMessage(7021, LogLevel.Debug, "Relay: the fleet has {Relays} relays and {Clients} clients; this relay's share is {Share}")]
    public static partial void FleetSize(ILogger logger, int relays, int clients, int share);

    [LoggerMessage(7022, LogLevel.Warning, "Relay: could not learn the fleet's size; the connection limit stays as it was until the next answer")]
    public static partial void FleetSizeFailed(ILogger logger, Exception error);

    [LoggerMessage(7023, LogLevel.Debug, "Relay: still cannot learn the fleet's size: {Reason}")]
    public static partial void FleetSizeStillFailing(ILogger logger, string reason);

    [LoggerMessage(7010, LogLevel.Information, "Relay: feeds stopped")]
    public static partial void FeedsStopped(ILogger logger);
}
