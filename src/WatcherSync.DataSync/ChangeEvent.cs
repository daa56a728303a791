namespace WatcherSync.DataSync;

/// <summary>
/// A batch of changes for one registration. The subscriber must call <see cref="Done"/> once it has handled it;
/// its error, or its silence past the acknowledgement timeout, is reported to the writer and the engine's owner.
/// </summary>
public sealed class ChangeEvent
{
    private readonly TaskCompletionSource<Exception?> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal ChangeEvent(string registration, IReadOnlyList<IChangeValue> changes)
    {
        Registration = registration;
        Changes = changes;
    }

    /// <summary>Gets the resync name of the registration the event is for.</summary>
    public string Registration { get; }

    /// <summary>Gets the changes, in the order they happened.</summary>
    public IReadOnlyList<IChangeValue> Changes { get; }

    internal Task<Exception?> Acknowledged => _done.Task;

    /// <summary>Acknowledges the event, with the error the subscriber met handling it (null for success). Later calls are ignored.</summary>
    public void Done(Exception? error) => _done.TrySetResult(error);
}
