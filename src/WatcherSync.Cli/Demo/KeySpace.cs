using System.Globalization;

namespace WatcherSync.Cli.Demo;

/// <summary>
/// The demo's keys: numbered slots spread over five resource kinds under <c>/registry/</c>. The syncer watches four
/// of them; the fifth (<c>events</c>) is written too but never watched, so the mirror must leave it out.
/// </summary>
internal sealed class KeySpace
{
    public const string Root = "/registry/";

    private static readonly string[] Kinds = ["pods", "services", "configmaps", "nodes", "events"];

    /// <summary>Creates a key space whose initial keys are slots 0 to <paramref name="initialKeys"/>-1; writers create up to twice as many.</summary>
    public KeySpace(int initialKeys)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(initialKeys, 1);
        InitialKeys = initialKeys;
        Slots = initialKeys * 2;
    }

    /// <summary>Gets the prefixes the syncer watches, one resource type each.</summary>
    public static IReadOnlyList<string> WatchedPrefixes { get; } = [.. Kinds[..^1].Select(k => Root + k + "/")];

    /// <summary>Gets the prefix of the pods, which the follower watches.</summary>
    public static string PodsPrefix => WatchedPrefixes[0];

    /// <summary>Gets the number of slots loaded before the syncer starts.</summary>
    public int InitialKeys { get; }

    /// <summary>Gets the number of slots the writers may use.</summary>
    public int Slots { get; }

    /// <summary>The kind of a slot: a multiplicative hash spreads neighbouring slots (and so every writer) over all kinds.</summary>
    public static int KindOf(int slot) => (int)((uint)slot * 2654435761u % (uint)Kinds.Length);

    public static bool IsWatched(int slot) => KindOf(slot) < Kinds.Length - 1;

    public static bool IsPod(int slot) => KindOf(slot) == 0;

    public static string PathOf(int slot)
    {
        string kind = Kinds[KindOf(slot)];
        return string.Create(CultureInfo.InvariantCulture, $"{Root}{kind}/{kind[..^1]}-{slot:D6}");
    }

    public static bool IsWatchedPath(string path) => WatchedPrefixes.Any(p => path.StartsWith(p, StringComparison.Ordinal));
}
