namespace WatcherSync.Cli.Bench;

/// <summary>What <c>watchersync bench-etcd</c> loads and times.</summary>
internal sealed record BenchSettings
{
    public const string DefaultPrefix = "/watchersync-bench/";

    /// <summary>Gets the prefix loaded and mirrored.</summary>
    public string Prefix { get; init; } = DefaultPrefix;

    /// <summary>Gets the number of keys to load; 0 times what is already there.</summary>
    public int Keys { get; init; } = 100_000;

    /// <summary>Gets the size of each value in bytes.</summary>
    public int ValueSize { get; init; } = 200;

    /// <summary>Gets the number of timed mirrors.</summary>
    public int Rounds { get; init; } = 3;

    /// <summary>Gets the number of writes in flight while loading.</summary>
    public int Concurrency { get; init; } = 32;

    /// <summary>Gets a value indicating whether to time <c>etcdctl get --prefix</c> too, when it is on the PATH.</summary>
    public bool CompareWithEtcdctl { get; init; } = true;
}
