using System.Threading.Channels;

namespace WatcherSync.DataSync;

/// <summary>Watches through several watchers at once (for example one per datastore).</summary>
public sealed class KeyValueWatchers : IKeyValueWatcher
{
    private readonly IKeyValueWatcher[] _watchers;

    /// <summary>Creates the aggregate of <paramref name="watchers"/>.</summary>
    public KeyValueWatchers(IEnumerable<IKeyValueWatcher> watchers)
    {
        ArgumentNullException.ThrowIfNull(watchers);
        _watchers = [.. watchers];
    }

    /// <summary>
    /// Watches through every watcher and returns an <see cref="AggregatedRegistration"/>. If one refuses, the
    /// registrations already made are closed before its error is thrown.
    /// </summary>
    public IWatchRegistration Watch(string resyncName, ChannelWriter<ChangeEvent>? changes, ChannelWriter<ResyncEvent>? resyncs, params string[] keyPrefixes)
    {
        var made = new List<IWatchRegistration>(_watchers.Length);
        try
        {
            foreach (IKeyValueWatcher watcher in _watchers)
            {
                made.Add(watcher.Watch(resyncName, changes, resyncs, keyPrefixes));
            }
        }
        catch
        {
            foreach (IWatchRegistration registration in made)
            {
                registration.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            throw;
        }

        return new AggregatedRegistration(made);
    }
}
