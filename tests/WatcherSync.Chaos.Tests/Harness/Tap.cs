namespace WatcherSync.Chaos.Tests.Harness;

/// <summary>
/// The syncer's callbacks in a mirror: everything goes to the dedupe buffer (parse and sync failures included, as items
/// of its one queue), which hands it to the sink in order; the tap only counts the statuses.
/// </summary>
internal sealed class Tap(DedupeBuffer buffer) : ISyncerCallbacks, ISyncerParseFailCallbacks, ISyncFailCallbacks
{
    private int _statuses;

    /// <summary>Gets how many statuses the syncer has sent to the buffer.</summary>
    public int Statuses => Volatile.Read(ref _statuses);

    public void OnStatusUpdated(SyncStatus status)
    {
        Interlocked.Increment(ref _statuses);
        buffer.OnStatusUpdated(status);
    }

    public void OnUpdates(IReadOnlyList<Update> updates) => buffer.OnUpdates(updates);

    public void ParseFailed(string rawKey, string? rawValue) => buffer.ParseFailed(rawKey, rawValue);

    public void SyncFailed(Exception error) => buffer.SyncFailed(error);
}
