namespace WatcherSync;

/// <summary>List options covering exactly one key.</summary>
internal sealed class ExactKeyListOptions(IKey key) : IListOptions
{
    public string DefaultPathRoot => key.DefaultPath;

    public IKey? KeyFromDefaultPath(string path) => string.Equals(path, key.DefaultPath, StringComparison.Ordinal) ? key : null;
}
