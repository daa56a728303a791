using Microsoft.Extensions.Logging;

namespace WatcherSync;

/// <summary>
/// One handler of a shared syncer: its <see cref="DedupeBuffer"/> (inputs from the shared picture, never waiting for
/// the handler) and the loop that drives the handler from it. It notes the first InSync the handler is told.
/// </summary>
/// <remarks>
/// State: <see cref="Synced"/> completes once, when the handler is first told InSync, or is cancelled when the handler
/// is removed (or the syncer stops) before that, at once, even while the handler is stuck in a call. <c>_pump</c> is null until <see cref="Start"/>; <c>_removal</c> is set once (the first removal),
/// after which the buffer takes no more input.
/// </remarks>
internal sealed class SharedHandler : ISyncerCallbacks, ISyncerParseFailCallbacks, ISyncFailCallbacks, ISyncerStoppingCallbacks
{
    private readonly ISyncerCallbacks _callbacks;
    private readonly ILogger _logger;
    private readonly Func<Exception, SyncerCallbackException> _threw;
    private SyncerCallbackException? _failure;
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _pump;
    private Task? _removal;

    /// <param name="callbacks">The handler.</param>
    /// <param name="options">The handler's options.</param>
    /// <param name="buffer">Its buffer's options.</param>
    /// <param name="logger">Where its failures are logged.</param>
    /// <param name="threw">Told each time the handler throws; returns the failure to keep.</param>
    public SharedHandler(ISyncerCallbacks callbacks, SyncerHandlerOptions options, DedupeBufferOptions buffer, ILogger logger, Func<Exception, SyncerCallbackException> threw)
    {
        _callbacks = callbacks;
        _logger = logger;
        _threw = threw;
        DeleteOnRemove = options.DeleteOnRemove;
        Buffer = new DedupeBuffer(buffer);
    }

    /// <summary>Gets the handler's buffer: the shared picture writes to it.</summary>
    public DedupeBuffer Buffer { get; }

    public bool DeleteOnRemove { get; }

    /// <summary>Gets the handler's type name, for logs.</summary>
    public string Name => _callbacks.GetType().Name;

    public bool HasSynced => _synced.Task.IsCompletedSuccessfully;

    public Task Synced => _synced.Task;

    /// <summary>Gets the first failure of the handler, or null while it has not thrown.</summary>
    public SyncerCallbackException? Failure => Volatile.Read(ref _failure);

    /// <summary>
    /// Records that the handler threw <paramref name="error"/> (the first failure is kept); called by the send loop, or
    /// by a handler that catches its own exceptions (hosting's sinks), which has logged it.
    /// </summary>
    public void RecordFailure(Exception error)
    {
        if (Volatile.Read(ref _failure) is null)
        {
            Interlocked.CompareExchange(ref _failure, _threw(error), null);
        }
    }

    /// <summary>Starts the loop that drives the handler from its buffer.</summary>
    public void Start() => _pump = Task.Run(PumpAsync);

    /// <summary>
    /// Ends the handler once everything queued for it is delivered; returns the same task every time. The caller has
    /// already queued what the handler must still get (the deletes, when <see cref="DeleteOnRemove"/>).
    /// </summary>
    public Task EndAsync(Lock sync)
    {
        lock (sync)
        {
            return _removal ??= EndCoreAsync();
        }
    }

    void ISyncerCallbacks.OnStatusUpdated(SyncStatus status)
    {
        try
        {
            _callbacks.OnStatusUpdated(status);
        }
        finally
        {
            // Told InSync even when its call threw: the buffer counts the call delivered and will not repeat it.
            if (status == SyncStatus.InSync)
            {
                _synced.TrySetResult();
            }
        }
    }

    void ISyncerCallbacks.OnUpdates(IReadOnlyList<Update> updates) => _callbacks.OnUpdates(updates);

    void ISyncerParseFailCallbacks.ParseFailed(string rawKey, string? rawValue) => (_callbacks as ISyncerParseFailCallbacks)?.ParseFailed(rawKey, rawValue);

    void ISyncFailCallbacks.SyncFailed(Exception error) => (_callbacks as ISyncFailCallbacks)?.SyncFailed(error);

    void ISyncerStoppingCallbacks.OnStopping() => (_callbacks as ISyncerStoppingCallbacks)?.OnStopping();

    private async Task EndCoreAsync()
    {
        Buffer.Complete();

        // Removed before it synced: whoever waits hears it now, not once a handler stuck in a call comes back.
        _synced.TrySetCanceled();
        if (_pump is not null)
        {
            await _pump.ConfigureAwait(false);
        }

        Buffer.Dispose();
    }

    private async Task PumpAsync()
    {
        while (true)
        {
            try
            {
                // Returns once the buffer is complete and drained.
                await Buffer.SendToSinkForeverAsync(this).ConfigureAwait(false);
                return;
            }
#pragma warning disable CA1031 // A handler that throws is its own bug: it is logged, and it goes on with the next batch.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                SharedSyncerLog.HandlerFailed(_logger, _callbacks.GetType().Name, ex);
                RecordFailure(ex);
            }
        }
    }
}
