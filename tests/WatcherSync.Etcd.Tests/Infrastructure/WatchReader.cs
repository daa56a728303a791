using FluentAssertions;
using WatcherSync.Testing;

namespace WatcherSync.Etcd.Tests.Infrastructure;

public static class WatchReader
{
    /// <summary>Reads <paramref name="count"/> change events (bookmarks skipped), failing on an error event or the deadline.</summary>
    public static async Task<List<WatchEvent>> ReadAsync(IWatch watch, int count, TimeSpan? timeout = null)
    {
        var events = new List<WatchEvent>(count);
        using var cts = new CancellationTokenSource(timeout ?? Eventually.DefaultTimeout);
        try
        {
            while (events.Count < count && await watch.Events.WaitToReadAsync(cts.Token))
            {
                while (events.Count < count && watch.Events.TryRead(out WatchEvent? e))
                {
                    if (e.Type == WatchEventType.Error)
                    {
                        throw new InvalidOperationException($"Watch failed after {events.Count} events: {e.Error}");
                    }

                    if (e.Type != WatchEventType.Bookmark)
                    {
                        events.Add(e);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"Only {events.Count} of {count} watch events arrived in time.");
        }

        events.Should().HaveCount(count, "the watch must not end early");
        return events;
    }

    /// <summary>Reads until an error event arrives (changes and bookmarks are skipped) and returns it.</summary>
    public static async Task<Exception> ErrorAsync(IWatch watch, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Eventually.DefaultTimeout);
        while (await watch.Events.WaitToReadAsync(cts.Token))
        {
            while (watch.Events.TryRead(out WatchEvent? e))
            {
                if (e.Type == WatchEventType.Error)
                {
                    return e.Error!;
                }
            }
        }

        throw new InvalidOperationException("The watch ended without an error.");
    }

    public static long Rev(string? revision) => long.Parse(revision!, System.Globalization.CultureInfo.InvariantCulture);
}
