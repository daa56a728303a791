namespace WatcherSync;

/// <summary>
/// Says which keys a list or watch covers: every datastore path under <see cref="DefaultPathRoot"/>
/// for which <see cref="KeyFromDefaultPath"/> returns a key.
/// </summary>
public interface IListOptions
{
    /// <summary>Gets the path prefix that every covered key starts with.</summary>
    string DefaultPathRoot { get; }

    /// <summary>
    /// Parses a datastore path into a key, or returns <see langword="null"/> when the path is not covered
    /// by these options (this is also the filter).
    /// </summary>
    IKey? KeyFromDefaultPath(string path);
}
