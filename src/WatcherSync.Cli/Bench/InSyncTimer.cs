namespace WatcherSync.Cli.Bench;

/// <summary>Syncer callbacks that count keys and complete when the picture is first complete.</summary>
internal sealed class InSyncTimer : ISyncerCallbacks
{
    private readonly TaskCompletionSource<long> _inSync = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _keys;

    /// <summary>Gets a task that completes with the number of keys at the first InSync.</summary>
    public Task<long> InSync => _inSync.Task;

    public void OnStatusUpdated(SyncStatus status)
    {
        if (status == SyncStatus.InSync)
        {
            _inSync.TrySetResult(Interlocked.Read(ref _keys));
        }
    }

    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        long delta = 0;
        foreach (Update update in updates)
        {
            delta += update.UpdateType switch
            {
                UpdateType.New => 1,
                UpdateType.Deleted => -1,
                _ => 0,
            };
        }

        Interlocked.Add(ref _keys, delta);
    }
}
