namespace WatcherSync.Benchmarks;

/// <summary>A sink that does nothing but count, and remembers the last status so a producer can wait for it.</summary>
internal sealed class NoOpSink : ISyncerCallbacks
{
    private int _status = -1;
    private long _updates;

    public SyncStatus? Status => Volatile.Read(ref _status) is var s and >= 0 ? (SyncStatus)s : null;

    public long Updates => Volatile.Read(ref _updates);

    public void OnStatusUpdated(SyncStatus status) => Volatile.Write(ref _status, (int)status);

    public void OnUpdates(IReadOnlyList<Update> updates) => Volatile.Write(ref _updates, _updates + updates.Count);
}
