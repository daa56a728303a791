namespace WatcherSync;

/// <summary>
/// Finds resource types that would list the same keys twice: two equal list options, or two plain prefixes of which
/// one starts with the other (<c>/a/</c> twice, or <c>/a/</c> and <c>/a/b/</c>). Each key must belong to one
/// resource type, or it is reported New twice and a stray Deleted at stop. Custom list options with overlapping roots
/// are allowed: their <see cref="IListOptions.KeyFromDefaultPath"/> is what keeps them apart.
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
        a.Equals(b)
        || (a is PrefixListOptions pa && b is PrefixListOptions pb
            && (pa.Prefix.StartsWith(pb.Prefix, StringComparison.Ordinal) || pb.Prefix.StartsWith(pa.Prefix, StringComparison.Ordinal)));
}
