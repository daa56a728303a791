namespace WatcherSync.Etcd.Transport;

/// <summary>
/// A request to one endpoint failed: one row of the failure-outcome table (<see cref="EtcdErrors"/>) that decides, per
/// failure, whether it is transient, whether the request was certainly not applied or its outcome is unknown, whether
/// the client moves off the endpoint, and whether to back off and try the endpoints again.
/// </summary>
/// <remarks>
/// What follows from a row (<see cref="EtcdTransport.CallAsync{TResponse}"/>): a transient failure moves later requests
/// off the endpoint, whether or not this request is sent again; a read, or a write that was not applied, is sent to the
/// next endpoint; a write whose outcome is unknown is never sent again and surfaces as a
/// <see cref="DatastoreUnavailableException"/> with <see cref="DatastoreUnavailableException.OutcomeUnknown"/> set;
/// a <see cref="RetryLater"/> failure on every endpoint is tried again after a short backoff, within the request timeout.
/// </remarks>
internal sealed class EndpointFailure : Exception
{
    public EndpointFailure(DatastoreException error, bool notApplied, FailureAction action = FailureAction.None, bool retryLater = false)
        : base(error.Message, error)
    {
        Error = error;
        NotApplied = notApplied;
        Action = action;
        RetryLater = retryLater;
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

    /// <summary>
    /// Gets whether the cluster refused the request for a moment (no leader, a leader transfer dropping proposals, too
    /// many requests): not applied, and worth trying again after a short backoff when every endpoint said so.
    /// </summary>
    public bool RetryLater { get; }

    /// <summary>Gets whether later requests should start at another endpoint: every transient failure of this one.</summary>
    public bool MovesOff => Error.IsTransient;

    /// <summary>Gets whether a write that failed this way may have been applied.</summary>
    public bool OutcomeUnknown => !NotApplied;
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
