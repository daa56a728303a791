using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace WatcherSync.Relay;

/// <summary>Log messages of the relay client (event ids 7100-7199). Tokens and values are never logged.</summary>
internal static partial class RelayClientLog
{
    [LoggerMessage(7100, LogLevel.Information, "Relay client {Client}: connected to {Endpoint} ({Server}), feed {Feed}, snapshot at {Sequence}")]
    public static partial void Connected(ILogger logger, string client, Uri endpoint, string server, string feed, ulong sequence);

    [LoggerMessage(7101, LogLevel.Warning, "Relay client {Client}: connection to {Endpoint} ended ({Code}: {Detail}); next try in {Delay}")]
    public static partial void ConnectionEnded(ILogger logger, string client, Uri endpoint, StatusCode code, string detail, TimeSpan delay);

    [LoggerMessage(7102, LogLevel.Information, "Relay client {Client}: resynced {Keys} keys, {Deleted} deleted as no longer present")]
    public static partial void Resynced(ILogger logger, string client, int keys, int deleted);

    [LoggerMessage(7107, LogLevel.Information, "Relay client {Client}: continued its picture of {Keys} keys without a snapshot")]
    public static partial void Resumed(ILogger logger, string client, int keys);

    [LoggerMessage(7103, LogLevel.Error, "Relay client {Client}: no relay reachable for {Elapsed}; reporting WaitForDatastore")]
    public static partial void Disconnected(ILogger logger, string client, TimeSpan elapsed);

    [LoggerMessage(7104, LogLevel.Error, "Relay client {Client}: a callback threw; the syncer goes on")]
    public static partial void CallbackFailed(ILogger logger, string client, Exception error);

    [LoggerMessage(7105, LogLevel.Warning, "Relay client {Client}: the relay at {Endpoint} went silent for {Silence}; dropping it")]
    public static partial void Silent(ILogger logger, string client, Uri endpoint, TimeSpan silence);

    [LoggerMessage(7106, LogLevel.Error, "Relay client {Client}: {Refusal} Retrying will not help until the client or the relay is reconfigured; once every relay refuses, the client tries again only every MaxReconnectDelay")]
    public static partial void Refused(ILogger logger, string client, string refusal);
}
