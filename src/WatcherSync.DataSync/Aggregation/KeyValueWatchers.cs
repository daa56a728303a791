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
        catch (Exception error)
        {
            // Undo what was made. Watch is synchronous (its registrations start in the background), so the undo
            // waits here; a failure to undo joins the original error instead of hiding it.
            List<Exception>? undoErrors = null;
            foreach (IWatchRegistration registration in made)
            {
                try
                {
                    registration.DisposeAsync().AsTask().GetAwaiter().GetResult();
                }
#pragma warning disable CA1031 // Collected and thrown with the original error.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    (undoErrors ??= []).Add(ex);
                }
            }

            if (undoErrors is null)
            {
                throw;
            }

            throw new AggregateException("Watching failed, and closing the registrations already made failed too.", [error, .. undoErrors]);
        }

        return new AggregatedRegistration(made);
    }
}
