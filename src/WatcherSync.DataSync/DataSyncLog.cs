using Microsoft.Extensions.Logging;

namespace WatcherSync.DataSync;

/// <summary>Log messages of the DataSync engine (event ids 4000-4099).</summary>
internal static partial class DataSyncLog
{
    [LoggerMessage(4000, LogLevel.Information, "DataSync registration {Registration} watching {Prefixes}")]
    public static partial void Registered(ILogger logger, string registration, string prefixes);

    [LoggerMessage(4001, LogLevel.Information, "DataSync registration {Registration} closed")]
    public static partial void Closed(ILogger logger, string registration);

    [LoggerMessage(4002, LogLevel.Warning, "DataSync registration {Registration}: {Message}")]
    public static partial void AcknowledgementFailed(ILogger logger, string registration, string message, Exception? error);

    [LoggerMessage(4003, LogLevel.Debug, "DataSync registration {Registration}: resync of {Count} keys")]
    public static partial void Resync(ILogger logger, string registration, int count);

    [LoggerMessage(4004, LogLevel.Error, "DataSync registration {Registration}: delivery loop failed")]
    public static partial void LoopFailed(ILogger logger, string registration, Exception error);

    [LoggerMessage(4005, LogLevel.Warning, "DataSync: could not delete client-lifetime key {Key} on dispose")]
    public static partial void LifetimeKeyDeleteFailed(ILogger logger, string key, Exception error);

    [LoggerMessage(4006, LogLevel.Error, "DataSync: an AcknowledgementFailed handler threw")]
    public static partial void HandlerFailed(ILogger logger, Exception error);
}
