using System.Threading.Channels;

namespace WatcherSync.Benchmarks;

/// <summary>
/// A raw watch read on a task of its own that counts the change events it sees. A benchmark thread blocks (it does
/// not spin: the machine has two cores) until the count reaches a target. An error event fails the wait, so a watcher
/// that falls behind the history is never mistaken for one that kept up.
/// </summary>
internal sealed class WatchCounter : IAsyncDisposable
{
    private readonly object _sync = new();
    private readonly IWatch _watch;
    private readonly Task _reader;
    private long _seen;
    private long _target = long.MaxValue;
    private Exception? _error;

    private WatchCounter(IWatch watch)
    {
        _watch = watch;
        _reader = Task.Run(ReadAsync);
    }

    public long Seen => Volatile.Read(ref _seen);

    /// <summary>Starts a watch of <paramref name="list"/> from the store's current revision.</summary>
    public static WatchCounter Start(IBackendClient client, IListOptions list) =>
        new(client.WatchAsync(list, new WatchOptions()).GetAwaiter().GetResult());

    /// <summary>Blocks until the watch has seen <paramref name="count"/> change events in all.</summary>
    public void WaitFor(long count)
    {
        lock (_sync)
        {
            // A full fence between publishing the target and reading the count, so that the reader cannot miss it.
            Interlocked.Exchange(ref _target, count);
            while (Volatile.Read(ref _seen) < count)
            {
                if (_error is not null)
                {
                    throw new InvalidOperationException("The watch failed.", _error);
                }

                if (!Monitor.Wait(_sync, TimeSpan.FromSeconds(60)))
                {
                    throw new TimeoutException($"The watch saw {Seen} events of {count} in 60 s.");
                }
            }

            Volatile.Write(ref _target, long.MaxValue);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _watch.DisposeAsync();
        await _reader;
    }

    private async Task ReadAsync()
    {
        ChannelReader<WatchEvent> events = _watch.Events;
        while (await events.WaitToReadAsync())
        {
            long seen = _seen;
            while (events.TryRead(out WatchEvent? watchEvent))
            {
                if (watchEvent.Type == WatchEventType.Error)
                {
                    lock (_sync)
                    {
                        _error = watchEvent.Error;
                        Monitor.PulseAll(_sync);
                    }

                    return;
                }

                if (watchEvent.Type != WatchEventType.Bookmark)
                {
                    seen++;
                }
            }

            Interlocked.Exchange(ref _seen, seen);
            if (seen >= Volatile.Read(ref _target))
            {
                lock (_sync)
                {
                    Monitor.PulseAll(_sync);
                }
            }
        }
    }
}
