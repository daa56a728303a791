namespace WatcherSync.DataSync;

/// <summary>
/// Covers every key under any of several prefixes with one list and one watch (rooted at their common prefix), so a
/// registration's state is always taken at one revision.
/// </summary>
internal sealed class MultiPrefixListOptions : IListOptions
{
    private readonly string[] _prefixes;

    public MultiPrefixListOptions(IReadOnlyCollection<string> prefixes)
    {
        _prefixes = [.. prefixes];
        DefaultPathRoot = CommonPrefix(_prefixes);
    }

    public string DefaultPathRoot { get; }

    public IKey? KeyFromDefaultPath(string path)
    {
        foreach (string prefix in _prefixes)
        {
            if (path.StartsWith(prefix, StringComparison.Ordinal))
            {
                return new PathKey(path);
            }
        }

        return null;
    }

    private static string CommonPrefix(string[] prefixes)
    {
        if (prefixes.Length == 0)
        {
            return string.Empty;
        }

        string common = prefixes[0];
        foreach (string prefix in prefixes)
        {
            int length = 0;
            while (length < common.Length && length < prefix.Length && common[length] == prefix[length])
            {
                length++;
            }

            common = common[..length];
        }

        return common;
    }
}
