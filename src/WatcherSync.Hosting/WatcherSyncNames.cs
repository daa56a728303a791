namespace WatcherSync.Hosting;

/// <summary>The syncers registered in a service collection: "" for the unnamed one, and each name given to AddWatcherSync.</summary>
internal sealed class WatcherSyncNames
{
    public HashSet<string> Names { get; } = new(StringComparer.Ordinal);
}
