namespace WatcherSync.Cli.Mirror;

/// <summary>What <c>watchersync mirror</c> prints.</summary>
internal enum MirrorMode
{
    /// <summary>Every update as a JSON line, until Ctrl+C.</summary>
    JsonLines,

    /// <summary>A live table of the picture and the latest changes, until Ctrl+C.</summary>
    Table,

    /// <summary>Only the number of keys, once in sync; then exit.</summary>
    Count,
}
