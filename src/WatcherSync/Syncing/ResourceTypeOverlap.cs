namespace WatcherSync;

/// <summary>
/// Finds resource types that would list the same keys twice: two equal list options, or a plain prefix under which
/// the other's root lies (<c>/a/</c> twice, <c>/a/</c> and <c>/a/b/</c>, or <c>/a/</c> and custom list options rooted
/// at <c>/a/</c> or below: the plain prefix takes every key under it). Each key must belong to one resource type, or
/// it is reported New twice and a stray Deleted at stop. Custom list options with overlapping roots, or a custom root
/// above a plain prefix, are allowed: the custom <see cref="IListOptions.KeyFromDefaultPath"/> may keep them apart.
/// </summary>
internal static class ResourceTypeOverlap
{
    /// <summary>Returns a sentence naming the first overlapping pair, or null when there is none.</summary>
    public static string? Find(IReadOnlyList<ResourceType> types)
    {
        for (int i = 0; i < types.Count; i++)
        {
            for (int j = i + 1; j < types.Count; j++)
            {
                IListOptions a = types[i].ListInterface;
                IListOptions b = types[j].ListInterface;
                if (Overlap(a, b))
                {
                    return $"Resource types {i} ('{a.DefaultPathRoot}') and {j} ('{b.DefaultPathRoot}') overlap: every key must belong to one resource type.";
                }
            }
        }

        return null;
    }

    private static bool Overlap(IListOptions a, IListOptions b) =>
        a.Equals(b) || Covers(a, b) || Covers(b, a);

    /// <summary>
    /// Whether plain prefix <paramref name="plain"/> takes every key of <paramref name="other"/>: a plain prefix takes
    /// every key under it, and every key of list options lies under their root.
    /// </summary>
    private static bool Covers(IListOptions plain, IListOptions other) =>
        plain is PrefixListOptions p && other.DefaultPathRoot is { } root && root.StartsWith(p.Prefix, StringComparison.Ordinal);
}
