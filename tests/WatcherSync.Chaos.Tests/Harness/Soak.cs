namespace WatcherSync.Chaos.Tests.Harness;

/// <summary>
/// The default run uses short forms of the longest fault tests; <c>WATCHERSYNC_SOAK=1</c> (scripts/test.sh --soak)
/// runs the long ones. <c>WATCHERSYNC_SEED</c> replays one seed.
/// </summary>
internal static class Soak
{
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable("WATCHERSYNC_SOAK") == "1";

    public static int Pick(int normal, int soak) => Enabled ? soak : normal;

    /// <summary>The seed to replay, when one is given.</summary>
    public static int? FixedSeed { get; } = int.TryParse(Environment.GetEnvironmentVariable("WATCHERSYNC_SEED"), out int seed) ? seed : null;

    /// <summary>A fresh seed for a run (or the one given to replay).</summary>
    public static int NewSeed() => FixedSeed ?? Random.Shared.Next(1, int.MaxValue);
}
