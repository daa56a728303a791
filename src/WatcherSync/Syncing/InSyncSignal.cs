namespace WatcherSync;

/// <summary>
/// What <see cref="ISyncer.WaitForInSyncAsync"/> waits on: set while the status last announced to the callbacks is
/// InSync, reset when it moves away, and failed for good once the syncer has stopped or a callback has thrown. Public so that other
/// <see cref="ISyncer"/> implementations keep the same promise with the same code.
/// </summary>
/// <remarks>
/// Invariant: <c>_inSync</c> is completed exactly when the last announced status is InSync, the syncer has stopped, or
/// <c>_callbackFailure</c> is set; once either of the last two holds it is faulted for good (the callback failure wins,
/// being the cause). A waiter holds the task of the moment it asked, so a wait that began before InSync ends at the
/// first InSync after it.
/// </remarks>
public sealed class InSyncSignal
{
    private readonly Lock _sync = new();
    private TaskCompletionSource _inSync = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stopped;
    private Exception? _callbackFailure;

    /// <summary>Records a status announced to the callbacks.</summary>
    /// <param name="status">The status just announced.</param>
    public void Announced(SyncStatus status)
    {
        lock (_sync)
        {
            if (_stopped || _callbackFailure is not null)
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
            if (_stopped || _callbackFailure is not null)
            {
                _stopped = true;
                return;
            }

            _stopped = true;
            Fail(new InvalidOperationException("The syncer has stopped; it is not in sync."));
        }
    }

    /// <summary>
    /// Records that a callback threw: waiting ends, now and from then on, with <paramref name="failure"/> (a
    /// <see cref="SyncerCallbackException"/>), as the consumer may have missed what that call carried. Only the first
    /// failure is kept; a signal already stopped keeps its stop.
    /// </summary>
    /// <param name="failure">The exception waits end with.</param>
    /// <exception cref="ArgumentNullException"><paramref name="failure"/> is null.</exception>
    public void CallbackFailed(Exception failure)
    {
        ArgumentNullException.ThrowIfNull(failure);
        lock (_sync)
        {
            if (_stopped || _callbackFailure is not null)
            {
                return;
            }

            _callbackFailure = failure;
            Fail(failure);
        }
    }

    /// <summary>Under the lock: faults the signal for good with <paramref name="error"/>.</summary>
    private void Fail(Exception error)
    {
        if (_inSync.Task.IsCompletedSuccessfully)
        {
            // Waiters of an InSync that has ended are done; later waiters get the failure.
            _inSync = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        _inSync.TrySetException(error);

        // Observed here: a signal nobody waited on must not raise TaskScheduler.UnobservedTaskException.
        _ = _inSync.Task.Exception;
    }

    /// <summary>Waits until the status announced to the callbacks is InSync (at once if it is now).</summary>
    /// <param name="cancellationToken">Ends the wait (not the syncer).</param>
    /// <returns>A task that completes when the syncer is in sync.</returns>
    /// <exception cref="InvalidOperationException">The syncer stopped first.</exception>
    /// <exception cref="SyncerCallbackException">A callback has thrown.</exception>
    public Task WaitAsync(CancellationToken cancellationToken = default)
    {
        lock (_sync)
        {
            return _inSync.Task.WaitAsync(cancellationToken);
        }
    }
}
