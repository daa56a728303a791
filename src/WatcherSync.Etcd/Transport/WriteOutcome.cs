namespace WatcherSync.Etcd.Transport;

/// <summary>
/// What a failed write says about the store. A write refused by etcd (a compare that failed, a request refused before
/// it was proposed) certainly did not happen. A write whose reply was lost (a timeout, a broken connection, the caller
/// cancelling while it was in flight) may have happened: nothing done afterwards may assume either, so nothing is
/// undone for it (its lease is not revoked: that would delete a key that was written).
/// </summary>
internal static class WriteOutcome
{
    /// <summary>Whether a write that failed with <paramref name="error"/> certainly did not change the store.</summary>
    public static bool CertainlyNotApplied(Exception error) =>
        error is DatastoreException and not DatastoreUnavailableException { OutcomeUnknown: true };
}
