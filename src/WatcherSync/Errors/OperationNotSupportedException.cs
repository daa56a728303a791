namespace WatcherSync;

/// <summary>The backend does not support the operation (for example, watching: poll instead).</summary>
public sealed class OperationNotSupportedException : DatastoreException
{
    /// <summary>Creates the exception with a message.</summary>
    public OperationNotSupportedException(string message)
        : base(message, isTransient: false)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public OperationNotSupportedException(string message, Exception? innerException)
        : base(message, isTransient: false, innerException)
    {
    }
}
