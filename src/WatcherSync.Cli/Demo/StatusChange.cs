namespace WatcherSync.Cli.Demo;

/// <summary>A status the syncer announced, and when (since the demo started).</summary>
internal readonly record struct StatusChange(TimeSpan At, SyncStatus Status);
