using Microsoft.Extensions.Logging;

namespace WatcherSync;

/// <summary>Log messages of the shared syncer (event ids 1100-1199).</summary>
internal static partial class SharedSyncerLog
{
    [LoggerMessage(1100, LogLevel.Error, "Shared syncer: handler {Handler} threw; it goes on with its next batch")]
    public static partial void HandlerFailed(ILogger logger, string handler, Exception error);

    [LoggerMessage(1101, LogLevel.Information, "Shared syncer: handler {Handler} added with {Keys} keys in the picture")]
    public static partial void HandlerAdded(ILogger logger, string handler, int keys);

    [LoggerMessage(1102, LogLevel.Information, "Shared syncer: handler {Handler} removed ({Deletes})")]
    public static partial void HandlerRemoved(ILogger logger, string handler, string deletes);
}
