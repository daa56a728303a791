namespace WatcherSync;

/// <summary>
/// One handler of a <see cref="SharedWatcherSyncer"/>: its own synced state, and its removal. Dispose it (or call
/// <see cref="SharedWatcherSyncer.RemoveHandlerAsync"/>) to end the handler.
/// </summary>
public sealed class SyncerHandlerRegistration : IAsyncDisposable
{
    private readonly SharedPicture _picture;

    internal SyncerHandlerRegistration(SharedPicture picture, SharedHandler handler)
    {
        _picture = picture;
        Handler = handler;
    }

    /// <summary>
    /// Gets whether the handler has been told <see cref="SyncStatus.InSync"/> at least once: it has received the whole
    /// picture (a late handler: the picture it was given when it was added, and what followed).
    /// </summary>
    public bool HasSynced => Handler.HasSynced;

    /// <summary>
    /// Gets the first failure of the handler, or null while it has not thrown. A handler that throws is logged and gets
    /// its next batch, but it may have missed what that call carried.
    /// </summary>
    public SyncerCallbackException? CallbackFailure => Handler.Failure;

    internal SharedHandler Handler { get; }

    /// <summary>Whether this is a handler of the shared syncer whose picture is <paramref name="picture"/>.</summary>
    internal bool Belongs(SharedPicture picture) => ReferenceEquals(_picture, picture);

    /// <summary>Waits until <see cref="HasSynced"/> is true.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes once the handler has synced.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled, or the handler
    /// was removed (or its syncer stopped) before it synced.</exception>
    public Task WaitForSyncedAsync(CancellationToken cancellationToken = default) => Handler.Synced.WaitAsync(cancellationToken);

    /// <summary>Removes the handler (see <see cref="SharedWatcherSyncer.RemoveHandlerAsync"/>). Calling it again does nothing more.</summary>
    public ValueTask DisposeAsync() => new(_picture.RemoveAsync(Handler));
}
