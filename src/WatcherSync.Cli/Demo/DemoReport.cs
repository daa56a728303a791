namespace WatcherSync.Cli.Demo;

/// <summary>Everything the demo's summary says, gathered once the sink has converged (or the deadline passed).</summary>
internal sealed record DemoReport
{
    public required DemoSettings Settings { get; init; }

    public required TimeSpan Writing { get; init; }

    public required TimeSpan Draining { get; init; }

    public required TimeSpan Total { get; init; }

    public required long Revision { get; init; }

    public required int UnwatchedKeys { get; init; }

    public required WriteCounters Writes { get; init; }

    public required long UpdatesIn { get; init; }

    public required long SyncerBatches { get; init; }

    public required long UpdatesOut { get; init; }

    public required long SinkBatches { get; init; }

    public required int LargestSinkBatch { get; init; }

    public required long Coalesced { get; init; }

    public required int PeakQueue { get; init; }

    public required IReadOnlyDictionary<string, long> Relists { get; init; }

    public required long WatchRestarts { get; init; }

    public required int CompactionRounds { get; init; }

    public required IReadOnlyList<StatusChange> Timeline { get; init; }

    public required IReadOnlyList<string> SyncFailures { get; init; }

    public required DemoFollower Follower { get; init; }

    public required long FollowerRelists { get; init; }

    public required PictureComparison Mirror { get; init; }

    public required PictureComparison FollowerView { get; init; }

    public required long WrongTypes { get; init; }

    public string? FirstWrongType { get; init; }

    public bool Passed => Mirror.Matches && FollowerView.Matches && WrongTypes == 0;
}
