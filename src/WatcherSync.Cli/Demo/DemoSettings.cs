namespace WatcherSync.Cli.Demo;

/// <summary>What the demo runs; the defaults finish in about ten seconds.</summary>
internal sealed record DemoSettings
{
    /// <summary>Gets the keys loaded before the syncer starts. Default: 5,000.</summary>
    public int Keys { get; init; } = 5000;

    /// <summary>Gets the number of concurrent writers. Default: 4.</summary>
    public int Writers { get; init; } = 4;

    /// <summary>Gets how long the writers run; null runs until interrupted. Default: 8 s (then the drain and the check).</summary>
    public TimeSpan? Duration { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>Gets the time the slow sink spends on each batch. Default: 20 ms.</summary>
    public TimeSpan SinkDelay { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Gets how often the compactor forces relists; null for never. Default: never.</summary>
    public TimeSpan? CompactEvery { get; init; }

    /// <summary>Gets the store's event history capacity. Default: the store's own (1,048,576).</summary>
    public int HistoryCapacity { get; init; } = 1 << 20;

    /// <summary>Gets the seed of the writers' random choices. Default: 1.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Gets how often progress is shown. Default: 1 s on a pipe; a terminal redraws four times as often.</summary>
    public TimeSpan ProgressInterval { get; init; } = TimeSpan.FromSeconds(1);
}
