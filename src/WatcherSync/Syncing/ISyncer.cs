namespace WatcherSync;

/// <summary>Keeps a set of callbacks in step with the datastore until stopped.</summary>
public interface ISyncer : IAsyncDisposable
{
    /// <summary>Starts syncing in the background. Calling it twice is an error.</summary>
    /// <exception cref="InvalidOperationException">The syncer was already started or has been stopped.</exception>
    void Start();

    /// <summary>Stops syncing: ends the background loops and reports every key still known as deleted.</summary>
    Task StopAsync();
}
