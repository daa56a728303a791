namespace WatcherSync;

/// <summary>
/// Syncer callbacks from lambdas: set the ones you need; the others do nothing. The syncer's promises hold as for any
/// callbacks object (never called concurrently, in order).
/// </summary>
/// <example>
/// <code>
/// await using ISyncer syncer = store.CreateSyncer(resourceTypes, new SyncerCallbacks
/// {
///     OnUpdates = updates => Console.WriteLine($"{updates.Count} updates"),
///     OnStatusUpdated = status => Console.WriteLine(status),
/// });
/// </code>
/// </example>
public sealed class SyncerCallbacks : ISyncerCallbacks, ISyncerParseFailCallbacks, ISyncFailCallbacks, ISyncerStoppingCallbacks
{
    /// <summary>Gets the action called with each status change.</summary>
    public Action<SyncStatus>? OnStatusUpdated { get; init; }

    /// <summary>Gets the action called with each batch of updates.</summary>
    public Action<IReadOnlyList<Update>>? OnUpdates { get; init; }

    /// <summary>Gets the action called with a raw key and value that could not be parsed.</summary>
    public Action<string, string?>? OnParseFailed { get; init; }

    /// <summary>Gets the action called when the datastore has stayed unreachable past the retry timeout.</summary>
    public Action<Exception>? OnSyncFailed { get; init; }

    /// <summary>Gets the action called once when the syncer stops, before the stop's deletes.</summary>
    public Action? OnStopping { get; init; }

    void ISyncerCallbacks.OnStatusUpdated(SyncStatus status) => OnStatusUpdated?.Invoke(status);

    void ISyncerCallbacks.OnUpdates(IReadOnlyList<Update> updates) => OnUpdates?.Invoke(updates);

    void ISyncerParseFailCallbacks.ParseFailed(string rawKey, string? rawValue) => OnParseFailed?.Invoke(rawKey, rawValue);

    void ISyncFailCallbacks.SyncFailed(Exception error) => OnSyncFailed?.Invoke(error);

    void ISyncerStoppingCallbacks.OnStopping() => OnStopping?.Invoke();
}
