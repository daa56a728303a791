namespace WatcherSync;

/// <summary>The key does not exist.</summary>
public sealed class ResourceNotFoundException : DatastoreException
{
    /// <summary>Creates the exception with a message.</summary>
    public ResourceNotFoundException(string message)
        : base(message, isTransient: false)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public ResourceNotFoundException(string message, Exception? innerException)
        : base(message, isTransient: false, innerException)
    {
    }
}
