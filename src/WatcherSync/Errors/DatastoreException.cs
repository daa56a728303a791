namespace WatcherSync;

/// <summary>The base of every error a backend reports.</summary>
public class DatastoreException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DatastoreException()
        : this("The datastore operation failed.")
    {
    }

    /// <summary>Creates a non-transient exception with a message.</summary>
    public DatastoreException(string message)
        : this(message, isTransient: false)
    {
    }

    /// <summary>Creates a non-transient exception with a message and the error that caused it.</summary>
    public DatastoreException(string message, Exception? innerException)
        : this(message, isTransient: false, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="isTransient">Whether the same call may succeed if retried.</param>
    /// <param name="innerException">The error that caused it.</param>
    public DatastoreException(string message, bool isTransient, Exception? innerException = null)
        : base(message, innerException)
    {
        IsTransient = isTransient;
    }

    /// <summary>Gets whether the same operation may succeed if retried later.</summary>
    public bool IsTransient { get; }
}
