using Microsoft.Extensions.Logging;
using WatcherSync;

namespace HostedMirror;

/// <summary>The mirror: the keys under the watched prefixes with their revisions, logged as they change.</summary>
public sealed partial class MirrorSink(ILogger<MirrorSink> logger) : ISyncerCallbacks
{
    private readonly Lock _sync = new();
    private readonly Dictionary<string, string?> _revisions = new(StringComparer.Ordinal);

    /// <summary>Gets how many keys the mirror holds.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _revisions.Count;
            }
        }
    }

    /// <inheritdoc />
    public void OnStatusUpdated(SyncStatus status) => LogStatus(logger, status, Count);

    /// <inheritdoc />
    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        lock (_sync)
        {
            foreach (Update update in updates)
            {
                string key = update.KVPair.Key.DefaultPath;
                if (update.UpdateType == UpdateType.Deleted)
                {
                    _revisions.Remove(key);
                }
                else
                {
                    _revisions[key] = update.KVPair.Revision;
                }

                LogUpdate(logger, update.UpdateType, key, update.KVPair.Revision);
            }
        }
    }

    [LoggerMessage(100, LogLevel.Information, "Mirror {Status}: {Count} keys")]
    private static partial void LogStatus(ILogger logger, SyncStatus status, int count);

    [LoggerMessage(101, LogLevel.Information, "{Type} {Key} at revision {Revision}")]
    private static partial void LogUpdate(ILogger logger, UpdateType type, string key, string? revision);
}
