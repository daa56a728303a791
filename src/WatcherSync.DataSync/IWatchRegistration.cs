namespace WatcherSync.DataSync;

/// <summary>A running watch registration. Disposing it closes it: nothing more is delivered for it.</summary>
public interface IWatchRegistration : IAsyncDisposable
{
    /// <summary>Adds <paramref name="keyPrefix"/> to the prefixes of the registration named <paramref name="resyncName"/>; a resync follows.</summary>
    /// <exception cref="ArgumentException">The name is unknown, or the prefix is already watched.</exception>
    void Register(string resyncName, string keyPrefix);

    /// <summary>Stops deliveries for <paramref name="keyPrefix"/>. Never blocks.</summary>
    /// <exception cref="ArgumentException">The prefix is not watched.</exception>
    void Unregister(string keyPrefix);
}
