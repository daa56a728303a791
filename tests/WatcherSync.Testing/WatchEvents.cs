using FluentAssertions;

namespace WatcherSync.Testing;

/// <summary>Reads watch events in tests.</summary>
public static class WatchEvents
{
    /// <summary>Reads <paramref name="count"/> events that are not bookmarks, failing on an error event or the deadline.</summary>
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
}
