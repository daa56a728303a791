namespace WatcherSync;

/// <summary>List options that cover every key starting with <see cref="Prefix"/>.</summary>
public sealed record PrefixListOptions : IListOptions
{
    /// <summary>Creates options covering every path that starts with <paramref name="prefix"/> (empty = everything).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="prefix"/> is null.</exception>
    public PrefixListOptions(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        Prefix = prefix;
    }

    /// <summary>Gets the prefix covered.</summary>
    public string Prefix { get; }

    /// <inheritdoc />
    public string DefaultPathRoot => Prefix;

    /// <inheritdoc />
    public IKey? KeyFromDefaultPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return path.Length > 0 && path.StartsWith(Prefix, StringComparison.Ordinal) ? new PathKey(path) : null;
    }
}
