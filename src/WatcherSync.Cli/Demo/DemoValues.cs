using System.Globalization;

namespace WatcherSync.Cli.Demo;

/// <summary>
/// The values the writers store: small JSON texts with a generation number, and for pods a phase. The follower
/// follows the failed pods.
/// </summary>
internal static class DemoValues
{
    private const string FailedMarker = "\"phase\":\"Failed\"";

    /// <summary>A value for the key in <paramref name="slot"/> at generation <paramref name="generation"/>.</summary>
    public static string Create(int slot, long generation, Random random)
    {
        if (KeySpace.IsPod(slot))
        {
            int roll = random.Next(100);
            string phase = roll < 75 ? "Running" : roll < 90 ? "Pending" : "Failed";
            return string.Create(CultureInfo.InvariantCulture, $"{{\"phase\":\"{phase}\",\"node\":\"node-{random.Next(16)}\",\"gen\":{generation}}}");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{{\"gen\":{generation},\"data\":\"{random.Next():x8}\"}}");
    }

    /// <summary>The follower's filter: a pod in phase Failed.</summary>
    public static bool IsFailedPod(KVPair pair) =>
        pair.Value is string text && pair.Key.DefaultPath.StartsWith(KeySpace.PodsPrefix, StringComparison.Ordinal) && text.Contains(FailedMarker, StringComparison.Ordinal);
}
