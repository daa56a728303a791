namespace WatcherSync.Etcd.Gateway;

/// <summary>A request to one endpoint failed; carries the mapped error and whether another endpoint may be tried.</summary>
internal sealed class EndpointFailure : Exception
{
    public EndpointFailure(DatastoreException error, bool notApplied, bool invalidToken = false)
        : base(error.Message, error)
    {
        Error = error;
        NotApplied = notApplied;
        InvalidToken = invalidToken;
    }

    public EndpointFailure()
        : this(new DatastoreException(), notApplied: false)
    {
    }

    public EndpointFailure(string message)
        : this(new DatastoreException(message), notApplied: false)
    {
    }

    public EndpointFailure(string message, Exception innerException)
        : this(new DatastoreException(message, innerException), notApplied: false)
    {
    }

    public DatastoreException Error { get; }

    /// <summary>Gets whether the server certainly did not apply the request.</summary>
    public bool NotApplied { get; }

    /// <summary>Gets whether the server rejected the auth token.</summary>
    public bool InvalidToken { get; }
}
