namespace WatcherSync;

/// <summary>A stored value (or key) could not be parsed into the expected form.</summary>
public sealed class ValueParseException : DatastoreException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="rawKey">The key as stored.</param>
    /// <param name="rawValue">The value as stored, as text (possibly truncated), or null.</param>
    /// <param name="message">What is wrong with it.</param>
    /// <param name="innerException">The parser's error.</param>
    public ValueParseException(string rawKey, string? rawValue, string message, Exception? innerException = null)
        : base(message, isTransient: false, innerException)
    {
        RawKey = rawKey ?? string.Empty;
        RawValue = rawValue;
    }

    /// <summary>Gets the key as stored.</summary>
    public string RawKey { get; }

    /// <summary>Gets the value as stored (as text, possibly truncated), or null.</summary>
    public string? RawValue { get; }
}
