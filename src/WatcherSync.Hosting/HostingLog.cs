using Microsoft.Extensions.Logging;

namespace WatcherSync.Hosting;

/// <summary>Log messages of the hosting integration (event ids 5000-5099). Keys, values and options are never logged.</summary>
internal static partial class HostingLog
{
    [LoggerMessage(5000, LogLevel.Information, "Starting syncer {Syncer} on {Backend} with {ResourceTypes} resource types and {Sinks} sinks")]
    public static partial void Starting(ILogger logger, string syncer, string backend, int resourceTypes, int sinks);

    [LoggerMessage(5001, LogLevel.Information, "Syncer {Syncer} stopped")]
    public static partial void Stopped(ILogger logger, string syncer);

    [LoggerMessage(5002, LogLevel.Error, "Sink {Sink} threw from {Callback}; the other sinks still get the call")]
    public static partial void SinkThrew(ILogger logger, string sink, string callback, Exception error);

    [LoggerMessage(5003, LogLevel.Critical, "Buffered sink {Sink} failed; the WatcherSync hosted service stops")]
    public static partial void BufferedSinkFailed(ILogger logger, string sink, Exception error);

    [LoggerMessage(5004, LogLevel.Warning, "Syncer {Syncer} aborted: what {Buffers} buffered sinks had not been given yet is dropped")]
    public static partial void Aborted(ILogger logger, string syncer, int buffers);

    [LoggerMessage(5005, LogLevel.Warning, "Syncer {Syncer} abandoned after the host's shutdown timeout: its stop is not awaited (a direct sink may be stuck in a call); the stop's deletes are not guaranteed to reach the direct sinks")]
    public static partial void Abandoned(ILogger logger, string syncer);

    [LoggerMessage(5006, LogLevel.Error, "Syncer {Syncer} failed while stopping after it was abandoned")]
    public static partial void AbandonedStopFailed(ILogger logger, string syncer, Exception error);
}
