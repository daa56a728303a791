namespace WatcherSync;

/// <summary>The datastore cannot be reached: connection refused, no leader, or a timeout. Retry.</summary>
public sealed class DatastoreUnavailableException : DatastoreException
{
    /// <summary>Creates the exception with a message.</summary>
    public DatastoreUnavailableException(string message)
        : base(message, isTransient: true)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public DatastoreUnavailableException(string message, Exception? innerException)
        : base(message, isTransient: true, innerException)
    {
    }
}
