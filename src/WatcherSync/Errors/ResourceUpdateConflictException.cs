namespace WatcherSync;

/// <summary>A compare-and-swap failed: the key's revision is not the one given.</summary>
public sealed class ResourceUpdateConflictException : DatastoreException
{
    /// <summary>Creates the exception with a message.</summary>
    public ResourceUpdateConflictException(string message)
        : base(message, isTransient: false)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public ResourceUpdateConflictException(string message, Exception? innerException)
        : base(message, isTransient: false, innerException)
    {
    }
}
