namespace WatcherSync;

/// <summary>The key to create already exists.</summary>
public sealed class ResourceAlreadyExistsException : DatastoreException
{
    /// <summary>Creates the exception with a message.</summary>
    public ResourceAlreadyExistsException(string message)
        : base(message, isTransient: false)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public ResourceAlreadyExistsException(string message, Exception? innerException)
        : base(message, isTransient: false, innerException)
    {
    }
}
