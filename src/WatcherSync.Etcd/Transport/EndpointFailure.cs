namespace WatcherSync.Etcd.Transport;

/// <summary>A request to one endpoint failed; carries the mapped error and what the client may do about it.</summary>
internal sealed class EndpointFailure : Exception
{
    public EndpointFailure(DatastoreException error, bool notApplied, FailureAction action = FailureAction.None)
        : base(error.Message, error)
    {
        Error = error;
        NotApplied = notApplied;
        Action = action;
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

    /// <summary>Gets whether the server certainly did not apply the request (safe to send elsewhere).</summary>
    public bool NotApplied { get; }

    /// <summary>Gets what the client does before giving up (authenticate again, forget the lease, ...).</summary>
    public FailureAction Action { get; }
}

/// <summary>What the client does about a failure before reporting it.</summary>
internal enum FailureAction
{
    /// <summary>Nothing: report the error (or fail over when it is transient).</summary>
    None,

    /// <summary>The auth token is invalid or from an older auth revision: authenticate again and retry once.</summary>
    RenewToken,

    /// <summary>etcd has auth turned off: carry on without a token, as clientv3 does.</summary>
    AuthNotEnabled,

    /// <summary>etcd has auth turned on but got no token: authenticate (when credentials are set) and retry once.</summary>
    TokenMissing,

    /// <summary>The lease of a write no longer exists on the server.</summary>
    LeaseNotFound,

    /// <summary>A reply was larger than the receive limit: retrying the same request cannot help.</summary>
    MessageTooLarge,
}
