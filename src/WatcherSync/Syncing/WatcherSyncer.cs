namespace WatcherSync;

/// <summary>Placeholder replaced by the list-then-watch syncer.</summary>
public sealed class WatcherSyncer : ISyncer
{
    /// <summary>Creates the syncer.</summary>
    public WatcherSyncer(IBackendClient client, IEnumerable<ResourceType> resourceTypes, ISyncerCallbacks callbacks, WatcherSyncerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(resourceTypes);
        ArgumentNullException.ThrowIfNull(callbacks);
        options?.Validate();
    }

    /// <inheritdoc />
    public void Start() => throw new NotSupportedException("The WatcherSyncer is not built yet.");

    /// <inheritdoc />
    public Task StopAsync() => Task.CompletedTask;

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
