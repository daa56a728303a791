namespace WatcherSync.Relay.Server;

/// <summary>Where a feed continues a client without a snapshot: the log follows from <see cref="Sequence"/> + 1.</summary>
/// <param name="Sequence">The entry whose picture is the client's.</param>
/// <param name="Status">The feed's status at that entry.</param>
/// <param name="By">How it was found: <see cref="BySequence"/> (the client's position is in this log) or <see cref="ByRevision"/> (another relay's log; found by revision and digest).</param>
internal readonly record struct ResumePoint(long Sequence, SyncStatus Status, string By)
{
    public const string BySequence = "sequence";

    public const string ByRevision = "revision";
}
