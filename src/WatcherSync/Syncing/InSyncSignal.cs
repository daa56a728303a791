namespace WatcherSync;

/// <summary>
/// What <see cref="ISyncer.WaitForInSyncAsync"/> waits on: set while the status last announced to the callbacks is
/// InSync, reset when it moves away, and failed for good once the syncer has stopped. Public so that other
/// <see cref="ISyncer"/> implementations keep the same promise with the same code.
/// </summary>
/// <remarks>
/// Invariant: <c>_inSync</c> is completed exactly when the last announced status is InSync or the syncer has stopped;
/// a waiter holds the task of the moment it asked, so a wait that began before InSync ends at the first InSync after it.
/// </remarks>
public sealed class InSyncSignal
{
    private readonly Lock _sync = new();
    private TaskCompletionSource _inSync = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stopped;

    /// <summary>Records a status announced to the callbacks.</summary>
    /// <param name="status">The status just announced.</param>
    public void Announced(SyncStatus status)
    {
        lock (_sync)
        {
            if (_stopped)
            {
                return;
            }

            if (status == SyncStatus.InSync)
            {
                _inSync.TrySetResult();
            }
            else if (_inSync.Task.IsCompleted)
            {
                _inSync = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
    }

    /// <summary>Records that the syncer has stopped: waiting ends with an <see cref="InvalidOperationException"/>.</summary>
    public void Stopped()
    {
        lock (_sync)
        {
            _stopped = true;
            if (_inSync.Task.IsCompletedSuccessfully)
            {
                // Waiters of an InSync that has ended are done; later waiters get the failure.
                _inSync = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            _inSync.TrySetException(new InvalidOperationException("The syncer has stopped; it is not in sync."));

            // Observed here: a stopped syncer nobody waited on must not raise TaskScheduler.UnobservedTaskException.
            _ = _inSync.Task.Exception;
        }
    }

    /// <summary>Waits until the status announced to the callbacks is InSync (at once if it is now).</summary>
    /// <param name="cancellationToken">Ends the wait (not the syncer).</param>
    /// <returns>A task that completes when the syncer is in sync.</returns>
    /// <exception cref="InvalidOperationException">The syncer stopped first.</exception>
    public Task WaitAsync(CancellationToken cancellationToken = default)
    {
        lock (_sync)
        {
            return _inSync.Task.WaitAsync(cancellationToken);
        }
    }
}
