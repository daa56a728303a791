namespace WatcherSync.Testing;

/// <summary>
/// A sink that records its calls as text ("InSync", "New /a", "Deleted /a", "Stopping"), to check where a stop's
/// announcement falls among the updates; synchronous and asynchronous alike. Thread-safe.
/// </summary>
public sealed class StoppingAwareSink : ISyncerCallbacks, ISyncerStoppingCallbacks, IAsyncSyncerCallbacks
{
    private readonly List<string> _calls = [];

    /// <summary>Gets a copy of the calls so far, oldest first.</summary>
    public IReadOnlyList<string> Calls
    {
        get
        {
            lock (_calls)
            {
                return [.. _calls];
            }
        }
    }

    public void OnStatusUpdated(SyncStatus status) => Add(status.ToString());

    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        foreach (Update update in updates)
        {
            Add($"{update.UpdateType} {update.KVPair.Key.DefaultPath}");
        }
    }

    public void OnStopping() => Add("Stopping");

    public ValueTask OnStatusUpdatedAsync(SyncStatus status, CancellationToken cancellationToken)
    {
        OnStatusUpdated(status);
        return ValueTask.CompletedTask;
    }

    public ValueTask OnUpdatesAsync(IReadOnlyList<Update> updates, CancellationToken cancellationToken)
    {
        OnUpdates(updates);
        return ValueTask.CompletedTask;
    }

    public ValueTask OnStoppingAsync(CancellationToken cancellationToken)
    {
        OnStopping();
        return ValueTask.CompletedTask;
    }

    private void Add(string call)
    {
        lock (_calls)
        {
            _calls.Add(call);
        }
    }
}
