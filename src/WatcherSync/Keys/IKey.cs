namespace WatcherSync;

/// <summary>
/// A datastore key. Two keys are the same key when their <see cref="DefaultPath"/> values are equal.
/// </summary>
public interface IKey
{
    /// <summary>Gets the serialized form of the key: the path stored in the datastore.</summary>
    string DefaultPath { get; }
}
