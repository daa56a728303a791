namespace WatcherSync.Chaos.Tests.Harness;

/// <summary>
/// The syncer's callbacks in a mirror: updates and statuses go to the dedupe buffer; parse and sync failures, which
/// the buffer does not carry, go straight to the recorder.
/// </summary>
internal sealed class Tap(ISyncerCallbacks buffer, ISyncerParseFailCallbacks parseFailed, ISyncFailCallbacks syncFailed)
    : ISyncerCallbacks, ISyncerParseFailCallbacks, ISyncFailCallbacks
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

    public void ParseFailed(string rawKey, string? rawValue) => parseFailed.ParseFailed(rawKey, rawValue);

    public void SyncFailed(Exception error) => syncFailed.SyncFailed(error);
}
