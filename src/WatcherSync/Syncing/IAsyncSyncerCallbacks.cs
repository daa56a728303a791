namespace WatcherSync;

/// <summary>
/// A sink that does I/O: the callbacks of a <see cref="DedupeBuffer"/>'s send loop as awaitable calls, so a sink that
/// writes to a database, a file or the network awaits instead of blocking a thread-pool thread. Calls are never
/// concurrent: the next call starts after the task of the last one has completed.
/// </summary>
public interface IAsyncSyncerCallbacks
{
    /// <summary>Called with a status change, after the updates that came before it.</summary>
    /// <param name="status">The new status.</param>
    /// <param name="cancellationToken">The send loop's token.</param>
    /// <returns>A task that completes when the sink has taken the status.</returns>
    ValueTask OnStatusUpdatedAsync(SyncStatus status, CancellationToken cancellationToken);

    /// <summary>Called with a coalesced batch of updates.</summary>
    /// <param name="updates">The updates, at most one per key.</param>
    /// <param name="cancellationToken">The send loop's token.</param>
    /// <returns>A task that completes when the sink has taken the updates.</returns>
    ValueTask OnUpdatesAsync(IReadOnlyList<Update> updates, CancellationToken cancellationToken);

    /// <summary>Called with a value that could not be parsed, in its place among the updates. Does nothing unless implemented.</summary>
    /// <param name="rawKey">The key as the datastore holds it.</param>
    /// <param name="rawValue">The value as the datastore holds it.</param>
    /// <param name="cancellationToken">The send loop's token.</param>
    /// <returns>A task that completes when the sink has taken the failure.</returns>
    ValueTask ParseFailedAsync(string rawKey, string? rawValue, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Called when the datastore has stayed unreachable past the retry timeout. Does nothing unless implemented.</summary>
    /// <param name="error">The last error.</param>
    /// <param name="cancellationToken">The send loop's token.</param>
    /// <returns>A task that completes when the sink has taken the failure.</returns>
    ValueTask SyncFailedAsync(Exception error, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>
    /// Called once when the upstream syncer stops, after every update from the datastore and before the stop's deletes
    /// (see <see cref="ISyncerStoppingCallbacks"/>). Does nothing unless implemented.
    /// </summary>
    /// <param name="cancellationToken">The send loop's token.</param>
    /// <returns>A task that completes when the sink has taken the news.</returns>
    ValueTask OnStoppingAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
