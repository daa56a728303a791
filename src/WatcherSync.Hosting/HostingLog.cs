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

    [LoggerMessage(5004, LogLevel.Warning, "Syncer {Syncer} aborted: what {Buffers} sinks had not been given yet is dropped")]
    public static partial void Aborted(ILogger logger, string syncer, int buffers);
}
