using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace WatcherSync;

/// <summary>
/// One <see cref="WatcherSyncer"/> shared by handlers added and removed while it runs (client-go's shared informer).
/// Each handler sits behind a <see cref="DedupeBuffer"/> of its own, so a slow one never holds up the others or the
/// syncer; each has its own <see cref="SyncerHandlerRegistration.HasSynced"/>. A handler added late is first given the
/// current picture as New (from memory: no list against the datastore), then the live updates.
/// </summary>
/// <remarks>
/// Unlike a <see cref="WatcherSyncer"/>, which keeps keys and revisions only, a shared syncer keeps the latest pair of
/// every key, to give late handlers the picture: its memory is that of the values. Adding a handler copies the picture
/// into the handler's buffer while the syncer's callbacks wait (a few milliseconds per 100,000 keys).
/// </remarks>
public sealed class SharedWatcherSyncer : ISyncer
{
    private readonly ISyncer _syncer;
    private readonly SharedPicture _picture;
    private readonly Lock _lifecycle = new();
    private Task? _stop;

    /// <summary>Creates a shared syncer; add handlers with <see cref="AddHandler"/> and call <see cref="Start"/>, in any order.</summary>
    /// <param name="client">The backend to list and watch.</param>
    /// <param name="resourceTypes">The resource types, as for a <see cref="WatcherSyncer"/>.</param>
    /// <param name="options">The syncer's options; null for the defaults.</param>
    /// <exception cref="ArgumentException">As for a <see cref="WatcherSyncer"/>.</exception>
    public SharedWatcherSyncer(IBackendClient client, IEnumerable<ResourceType> resourceTypes, WatcherSyncerOptions? options = null)
    {
        ILogger logger = (options?.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<SharedWatcherSyncer>();
        _picture = new SharedPicture(options?.Name ?? new WatcherSyncerOptions().Name, logger, options?.LoggerFactory, options?.MeterFactory);
        _syncer = new WatcherSyncer(client, resourceTypes, _picture, options);
    }

    /// <summary>
    /// Creates a shared syncer whose picture comes from the syncer <paramref name="create"/> makes, given the callbacks
    /// to call (hosting puts a relay client there).
    /// </summary>
    /// <param name="create">Makes the one syncer the handlers share, calling the callbacks it is given.</param>
    /// <param name="options">The syncer's options (their logger and meter factories serve the handlers' buffers).</param>
    internal SharedWatcherSyncer(Func<ISyncerCallbacks, ISyncer> create, WatcherSyncerOptions options)
    {
        ILogger logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<SharedWatcherSyncer>();
        _picture = new SharedPicture(options.Name, logger, options.LoggerFactory, options.MeterFactory);
        _syncer = create(_picture);
    }

    /// <summary>Gets the one syncer the handlers share (hosting reads its health from it).</summary>
    internal ISyncer Syncer => _syncer;

    /// <summary>Gets the status the syncer last announced (WaitForDatastore before the first).</summary>
    public SyncStatus Status => _syncer.Status;

    /// <summary>Gets the number of keys in the shared picture.</summary>
    public long KeyCount => _picture.Count;

    /// <inheritdoc />
    /// <remarks>The first handler that threw (the others, and that one's next batches, still get their calls); a
    /// handler's own is <see cref="SyncerHandlerRegistration.CallbackFailure"/>.</remarks>
    public SyncerCallbackException? CallbackFailure => _picture.HandlerFailure ?? _syncer.CallbackFailure;

    /// <inheritdoc />
    /// <remarks>The shared syncer's own status; a handler's is <see cref="SyncerHandlerRegistration.WaitForSyncedAsync"/>.
    /// It fails, as every syncer's, once a handler has thrown (<see cref="CallbackFailure"/>).</remarks>
    public Task WaitForInSyncAsync(CancellationToken cancellationToken = default)
    {
        Task failed = _picture.HandlerFailed;
        return failed.IsFaulted ? failed : WaitAsync(_syncer.WaitForInSyncAsync(cancellationToken), failed);

        static async Task WaitAsync(Task inSync, Task failed)
        {
            Task first = await Task.WhenAny(inSync, failed).ConfigureAwait(false);
            await first.ConfigureAwait(false);
        }
    }

    /// <summary>Gets the error of the syncer's last SyncFailed since it was last in sync (hosting's health shows it).</summary>
    internal Exception? LastSyncFailure => _picture.LastSyncFailure;

    /// <summary>
    /// Adds a handler. If the syncer has announced a status, the handler is first given ResyncInProgress, the current
    /// picture as New and the current status; then every call that follows. Calls to it are never concurrent.
    /// </summary>
    /// <param name="callbacks">The handler. It may also implement <see cref="ISyncerParseFailCallbacks"/> and
    /// <see cref="ISyncFailCallbacks"/>. A handler that throws is logged and goes on with its next batch.</param>
    /// <param name="options">The handler's options; null for the defaults.</param>
    /// <returns>The registration: its synced state, and its removal.</returns>
    /// <exception cref="ObjectDisposedException">The shared syncer has been stopped.</exception>
    public SyncerHandlerRegistration AddHandler(ISyncerCallbacks callbacks, SyncerHandlerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(callbacks);
        SharedHandler handler = _picture.Add(callbacks, options ?? new SyncerHandlerOptions())
            ?? throw new ObjectDisposedException(nameof(SharedWatcherSyncer));
        return new SyncerHandlerRegistration(_picture, handler);
    }

    /// <summary>
    /// Removes a handler: it gets no more updates; what was queued for it is delivered, then (when
    /// <see cref="SyncerHandlerOptions.DeleteOnRemove"/>) a delete of every key it holds. Completes when the handler
    /// has had its last call. Removing it again does nothing more. Do not await it from the handler itself (it waits
    /// for the handler's calls to end).
    /// </summary>
    /// <param name="registration">The handler's registration.</param>
    /// <returns>A task that completes when the handler has had its last call.</returns>
    /// <exception cref="ArgumentException">The registration is another shared syncer's.</exception>
    public Task RemoveHandlerAsync(SyncerHandlerRegistration registration)
    {
        ArgumentNullException.ThrowIfNull(registration);
        if (!registration.Belongs(_picture))
        {
            throw new ArgumentException("The registration is another shared syncer's handler.", nameof(registration));
        }

        return _picture.RemoveAsync(registration.Handler);
    }

    /// <inheritdoc />
    public void Start() => _syncer.Start();

    /// <inheritdoc />
    /// <remarks>Stops the syncer (a handler that implements <see cref="ISyncerStoppingCallbacks"/> is told so first; then,
    /// unless <see cref="WatcherSyncerOptions.DeleteOnStop"/> is off, every handler is told every key deleted), then ends
    /// every handler once it has had what was queued for it. Do not await it from a handler.</remarks>
    public Task StopAsync()
    {
        lock (_lifecycle)
        {
            return _stop ??= StopCoreAsync();
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task StopCoreAsync()
    {
        await _syncer.StopAsync().ConfigureAwait(false);
        await _picture.CloseAsync().ConfigureAwait(false);
    }
}
