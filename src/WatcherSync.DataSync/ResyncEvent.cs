namespace WatcherSync.DataSync;

/// <summary>
/// The whole state of a registration's prefixes, sent at start and after every relist, reconnect or compaction.
/// The subscriber must call <see cref="Done"/> once it has handled it.
/// </summary>
public sealed class ResyncEvent
{
    private readonly TaskCompletionSource<Exception?> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal ResyncEvent(string registration, IReadOnlyDictionary<string, IReadOnlyList<IKeyValue>> values)
    {
        Registration = registration;
        Values = values;
    }

    /// <summary>Gets the resync name of the registration the event is for.</summary>
    public string Registration { get; }

    /// <summary>Gets, per watched prefix, every key under it in key order (possibly none).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<IKeyValue>> Values { get; }

    internal Task<Exception?> Acknowledged => _done.Task;

    /// <summary>Acknowledges the event, with the error the subscriber met handling it (null for success). Later calls are ignored.</summary>
    public void Done(Exception? error) => _done.TrySetResult(error);
}
