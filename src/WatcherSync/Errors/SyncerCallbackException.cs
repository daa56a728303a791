namespace WatcherSync;

/// <summary>
/// A callback of a syncer threw. The syncer went on (the call cannot be taken back, and what comes after it still reaches
/// the callbacks), but what that call carried may be missing from the consumer's picture: from then on
/// <see cref="ISyncer.WaitForInSyncAsync"/> fails with this exception, whose inner exception is the first one a callback threw.
/// </summary>
public sealed class SyncerCallbackException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="syncer">The name of the syncer whose callback threw.</param>
    /// <param name="innerException">What the callback threw.</param>
    public SyncerCallbackException(string syncer, Exception innerException)
        : base($"A callback of syncer '{syncer}' threw ({innerException?.Message}); the syncer went on, but the consumer may have missed what that call carried.", innerException)
    {
        Syncer = syncer ?? string.Empty;
    }

    /// <summary>Gets the name of the syncer whose callback threw.</summary>
    public string Syncer { get; }
}
