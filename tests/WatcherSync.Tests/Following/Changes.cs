namespace WatcherSync.Tests.Following;

/// <summary>Updates as a syncer would hand them to its callbacks.</summary>
internal static class Changes
{
    public static Update New(string key, string value) => new(new KVPair(new PathKey(key), value, "1"), UpdateType.New);

    public static Update Updated(string key, string value) => new(new KVPair(new PathKey(key), value, "2"), UpdateType.Updated);

    public static Update Deleted(string key) => new(new KVPair(new PathKey(key), null, "3"), UpdateType.Deleted);
}
