namespace WatcherSync;

/// <summary>The revision asked for is newer than the datastore's current revision.</summary>
public sealed class RevisionTooLargeException : DatastoreException
{
    /// <summary>Creates the exception with a message.</summary>
    public RevisionTooLargeException(string message)
        : base(message, isTransient: false)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public RevisionTooLargeException(string message, Exception? innerException)
        : base(message, isTransient: false, innerException)
    {
    }
}
