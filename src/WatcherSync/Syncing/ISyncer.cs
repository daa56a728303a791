namespace WatcherSync;

/// <summary>Keeps a set of callbacks in step with the datastore until stopped.</summary>
public interface ISyncer : IAsyncDisposable
{
    /// <summary>Starts syncing in the background. Calling it twice is an error.</summary>
    /// <exception cref="InvalidOperationException">The syncer was already started or has been stopped.</exception>
    void Start();

    /// <summary>Stops syncing: ends the background loops and reports every key still known as deleted.</summary>
    Task StopAsync();

    /// <summary>Gets the status last announced to the callbacks (WaitForDatastore before the first). Safe from any thread.</summary>
    SyncStatus Status { get; }

    /// <summary>Gets the number of keys in the syncer's picture. Safe from any thread.</summary>
    long KeyCount { get; }

    /// <summary>
    /// Waits until the status announced to the callbacks is InSync: at once when it is now, otherwise at the next InSync
    /// (the callbacks have had it, and every update before it). May be called before <see cref="Start"/>.
    /// </summary>
    /// <param name="cancellationToken">Ends the wait, not the syncer.</param>
    /// <returns>A task that completes when the syncer is in sync.</returns>
    /// <exception cref="InvalidOperationException">The syncer stopped before it was in sync.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    Task WaitForInSyncAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Gets the first failure of a callback this syncer called, or null while none has thrown. A callback that throws
    /// does not stop the syncer, but the consumer may have missed what that call carried: the failure is kept here, and
    /// <see cref="WaitForInSyncAsync"/> fails with it from then on, so that it is seen without a logger. Safe from any thread.
    /// </summary>
    SyncerCallbackException? CallbackFailure { get; }
}
