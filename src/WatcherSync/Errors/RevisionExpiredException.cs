namespace WatcherSync;

/// <summary>The revision asked for has been compacted (or is too old for the backend to serve); relist.</summary>
public sealed class RevisionExpiredException : DatastoreException
{
    /// <summary>Creates the exception with a message.</summary>
    public RevisionExpiredException(string message)
        : base(message, isTransient: false)
    {
    }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    public RevisionExpiredException(string message, Exception? innerException)
        : base(message, isTransient: false, innerException)
    {
    }

    /// <summary>Gets the revision the datastore is compacted at, when it said so; 0 when unknown.</summary>
    public long CompactRevision { get; init; }
}
