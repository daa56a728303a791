using Microsoft.Extensions.Logging;

namespace WatcherSync;

/// <summary>Log messages of the WatcherSyncer and its watcher caches (event ids 1000-1099).</summary>
internal static partial class SyncerLog
{
    [LoggerMessage(1000, LogLevel.Information, "Syncer {Syncer}: status {Status}")]
    public static partial void StatusChanged(ILogger logger, string syncer, SyncStatus status);

    [LoggerMessage(1001, LogLevel.Information, "Syncer {Syncer}: full sync of {Prefix} ({Reason})")]
    public static partial void Relisting(ILogger logger, string syncer, string prefix, RelistReason reason);

    [LoggerMessage(1002, LogLevel.Debug, "Syncer {Syncer}: listed {Count} keys under {Prefix} at revision {Revision}")]
    public static partial void Listed(ILogger logger, string syncer, int count, string prefix, string revision);

    [LoggerMessage(1003, LogLevel.Warning, "Syncer {Syncer}: list of {Prefix} failed; retrying")]
    public static partial void ListFailed(ILogger logger, string syncer, string prefix, Exception error);

    [LoggerMessage(1004, LogLevel.Information, "Syncer {Syncer}: watch of {Prefix} from revision {Revision} failed ({Handling})")]
    public static partial void WatchFailed(ILogger logger, string syncer, string prefix, string? revision, string handling, Exception error);

    [LoggerMessage(1005, LogLevel.Debug, "Syncer {Syncer}: watch of {Prefix} ended at revision {Revision}; resuming")]
    public static partial void WatchEnded(ILogger logger, string syncer, string prefix, string? revision);

    [LoggerMessage(1006, LogLevel.Information, "Syncer {Syncer}: {Prefix} cannot be watched; polling")]
    public static partial void Polling(ILogger logger, string syncer, string prefix);

    [LoggerMessage(1007, LogLevel.Error, "Syncer {Syncer}: no contact with the datastore for {Prefix} within the retry timeout")]
    public static partial void ContactLost(ILogger logger, string syncer, string prefix, Exception error);

    [LoggerMessage(1008, LogLevel.Warning, "Syncer {Syncer}: could not parse key {RawKey}")]
    public static partial void ParseFailed(ILogger logger, string syncer, string rawKey, Exception? error);

    [LoggerMessage(1009, LogLevel.Error, "Syncer {Syncer}: update processor failed on key {RawKey}")]
    public static partial void ProcessorFailed(ILogger logger, string syncer, string rawKey, Exception error);

    [LoggerMessage(1010, LogLevel.Error, "Syncer {Syncer}: a callback threw; the syncer goes on")]
    public static partial void CallbackFailed(ILogger logger, string syncer, Exception error);

    [LoggerMessage(1011, LogLevel.Information, "Syncer {Syncer}: stopped; reported {Count} keys as deleted")]
    public static partial void Stopped(ILogger logger, string syncer, int count);

    [LoggerMessage(1012, LogLevel.Error, "Syncer {Syncer}: the watcher cache of {Prefix} failed unexpectedly; relisting")]
    public static partial void CacheFailed(ILogger logger, string syncer, string prefix, Exception error);

    [LoggerMessage(1013, LogLevel.Debug, "Syncer {Syncer}: {Prefix} retries in {Delay} (retry {Attempt} in a row)")]
    public static partial void Retrying(ILogger logger, string syncer, string prefix, TimeSpan delay, int attempt);

    [LoggerMessage(1015, LogLevel.Warning, "Syncer {Syncer}: {Operation} of {Prefix} still failing: {Repeats} more failures in the last {Window} not logged; retrying")]
    public static partial void StillFailing(ILogger logger, string syncer, string operation, string prefix, int repeats, TimeSpan window, Exception error);

    [LoggerMessage(1016, LogLevel.Information, "Syncer {Syncer}: {Operation} of {Prefix} works again, after {Repeats} more failures not logged")]
    public static partial void Recovered(ILogger logger, string syncer, string operation, string prefix, int repeats);

    [LoggerMessage(1014, LogLevel.Warning, "Syncer {Syncer}: the transform failed on key {Key}; the write is reported as a parse failure")]
    public static partial void TransformFailed(ILogger logger, string syncer, string key, Exception error);
}

/// <summary>Why a watcher cache lists again.</summary>
internal enum RelistReason : byte
{
    /// <summary>The first list.</summary>
    Initial,

    /// <summary>The watch revision was compacted.</summary>
    Compacted,

    /// <summary>Too many watch errors in a row.</summary>
    WatchErrors,

    /// <summary>The datastore could not be reached for longer than the retry timeout.</summary>
    ContactLost,

    /// <summary>The resource cannot be watched and is polled.</summary>
    Poll,

    /// <summary>The datastore's revision went backwards (wiped or restored).</summary>
    Reset,
}
