namespace WatcherSync;

/// <summary>
/// Stands in for a value that a backend could not decode. Lists and watches carry it in place of the value so
/// that one bad key never stops the others; a syncer reports such a key through
/// <see cref="ISyncerParseFailCallbacks.ParseFailed"/> and treats it as gone.
/// </summary>
/// <param name="Error">Why the value could not be decoded.</param>
public sealed record InvalidValue(ValueParseException Error)
{
    /// <summary>Gets the value as stored, as text (possibly truncated), or null.</summary>
    public string? RawValue => Error.RawValue;
}
