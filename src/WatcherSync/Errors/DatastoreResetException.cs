namespace WatcherSync;

/// <summary>
/// The datastore's revision went backwards: it was wiped or restored from an older backup, so revisions seen before
/// mean nothing any more. A syncer relists and re-sends every key, even one whose revision looks unchanged.
/// </summary>
public sealed class DatastoreResetException : DatastoreException
{
    /// <summary>Creates the exception with a message.</summary>
    public DatastoreResetException(string message)
        : base(message, isTransient: false)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public DatastoreResetException(string message, Exception? innerException)
        : base(message, isTransient: false, innerException)
    {
    }
}
