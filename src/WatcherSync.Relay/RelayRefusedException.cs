namespace WatcherSync.Relay;

/// <summary>
/// A relay refused the subscription, or could not be spoken to, for a reason retrying will not cure until the client
/// or the relay is reconfigured: credentials, an unknown feed or prefix, an untrusted certificate, http against https,
/// an endpoint without HTTP/2. Passed to <see cref="ISyncFailCallbacks.SyncFailed"/> as soon as it happens.
/// </summary>
public sealed class RelayRefusedException : Exception
{
    /// <summary>Creates the exception for <paramref name="endpoint"/> with the reason, a sentence.</summary>
    /// <param name="endpoint">The relay that refused.</param>
    /// <param name="reason">Why, in the relay's words when it gave them.</param>
    /// <param name="innerException">The error as the transport reported it, if any.</param>
    public RelayRefusedException(Uri endpoint, string reason, Exception? innerException = null)
        : base($"The relay at {endpoint} refused the subscription: {reason}", innerException)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        Endpoint = endpoint;
        Reason = reason;
    }

    /// <summary>Gets the relay that refused.</summary>
    public Uri Endpoint { get; }

    /// <summary>Gets why, as a sentence.</summary>
    public string Reason { get; }
}
