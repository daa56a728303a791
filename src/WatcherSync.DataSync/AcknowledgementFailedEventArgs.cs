namespace WatcherSync.DataSync;

/// <summary>Data of <see cref="DataSyncEngine.AcknowledgementFailed"/>.</summary>
/// <param name="error">What went wrong.</param>
/// <param name="keys">The keys of the event that failed (empty for a resync).</param>
public sealed class AcknowledgementFailedEventArgs(DataSyncAcknowledgementException error, IReadOnlyList<string> keys) : EventArgs
{
    /// <summary>Gets what went wrong.</summary>
    public DataSyncAcknowledgementException Error { get; } = error;

    /// <summary>Gets the keys of the event that failed (empty for a resync).</summary>
    public IReadOnlyList<string> Keys { get; } = keys;
}
