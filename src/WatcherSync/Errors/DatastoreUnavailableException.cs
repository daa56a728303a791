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

    /// <summary>
    /// Gets a value indicating whether a write that failed this way may have been applied anyway (its reply was lost:
    /// a timeout or a broken connection after it was sent). Such a write is never sent again by the backend; the key
    /// holds either its old or its new value, and only a read tells which.
    /// </summary>
    public bool OutcomeUnknown { get; init; }
}
