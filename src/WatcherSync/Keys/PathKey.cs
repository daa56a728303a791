namespace WatcherSync;

/// <summary>A plain path key.</summary>
public sealed record PathKey : IKey
{
    /// <summary>Creates a key for <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    public PathKey(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        Path = path;
    }

    /// <summary>Gets the datastore path of the key.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public string DefaultPath => Path;

    /// <inheritdoc />
    public override string ToString() => Path;
}
