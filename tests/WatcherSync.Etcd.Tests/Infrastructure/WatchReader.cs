using FluentAssertions;
using WatcherSync.Testing;

namespace WatcherSync.Etcd.Tests.Infrastructure;

public static class WatchReader
{
    /// <summary>Reads <paramref name="count"/> change events (bookmarks skipped), failing on an error event or the deadline.</summary>
    public static Task<List<WatchEvent>> ReadAsync(IWatch watch, int count, TimeSpan? timeout = null) =>
        WatchEvents.ReadAsync(watch, count, timeout);

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
