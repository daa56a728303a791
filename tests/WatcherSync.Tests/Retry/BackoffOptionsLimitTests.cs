using System.Globalization;
using FluentAssertions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Testing.ScriptedBackend;

namespace WatcherSync.Tests.Retry;

/// <summary>Edge cases of the syncer's backoff: option values at the edges that its validation accepts, and what counts as a failure in a row.</summary>
public sealed class BackoffOptionsLimitTests
{
    [Fact]
    public async Task Backoff_HugeDelaysThatValidationAccepts_AFailedListIsStillRetried()
    {
        // Validate() accepts any non-negative InitialDelay and MaxDelay ("no cap" = a huge MaxDelay). A drawn delay
        // beyond what a timer can wait (about 49.7 days) must still end in a retry (or the options must be refused),
        // not end the resource type's cache for good.
        var time = new FakeTimeProvider();
        var backend = new ScriptedBackend();
        Script a = backend.For("/a/");
        a.ListFails(new DatastoreUnavailableException("connection refused"));
        a.List(10, Pair("/a/1", "one", 1));
        a.Watch();
        var callbacks = new RecordingCallbacks();
        var options = new WatcherSyncerOptions
        {
            TimeProvider = time,
            Backoff = new BackoffOptions
            {
                InitialDelay = TimeSpan.FromDays(100),
                MaxDelay = TimeSpan.FromDays(100),
                Random = new Fixed(0.75),
            },
        };

        WatcherSyncer syncer;
        try
        {
            syncer = new WatcherSyncer(backend, [new ResourceType(new PrefixListOptions("/a/"))], callbacks, options);
        }
        catch (ArgumentOutOfRangeException)
        {
            // Refused up front: as good as honoured.
            return;
        }

        await using (syncer)
        {
            syncer.Start();
            await Eventually.Advancing(
                time,
                () => a.ListCalls >= 2,
                "the failed list is retried once its 75-day backoff has passed",
                step: TimeSpan.FromDays(1));
            await Eventually.Advancing(time, () => callbacks.LastStatus == SyncStatus.InSync, "the retried list brings the syncer in sync", step: TimeSpan.FromDays(1));
            callbacks.Picture.Keys.Should().Equal("/a/1");
        }
    }

    [Fact]
    public async Task WatchesThatDeliverEventsForNinetySecondsThenEnd_AreNotFailuresInARow_TheReconnectDoesNotClimbToTheCap()
    {
        // A server or proxy that ends every watch stream after a while (a maximum stream age) ends healthy watches: each
        // delivered events and ended cleanly. Before the backoff, the reconnect waited MinResyncInterval (500 ms); the
        // issue asks for backoff of failures ("list retries, watch reconnects and relists after errors"), as client-go,
        // which opens the next watch at once after a watch that ended normally. Here each clean end counts as one more
        // failure in a row (ResetAfter is 2 min, the watches live 90 s), so the gap in delivery climbs to 30 s.
        var time = new FakeTimeProvider();
        var backend = new ScriptedBackend();
        Script a = backend.For("/a/");
        a.List(10, Pair("/a/k", "v", 1));
        var watches = new List<ScriptedWatch>();
        for (int i = 0; i < 9; i++)
        {
            watches.Add(a.Watch());
        }

        var logs = new FakeLogCollector();
        var options = new WatcherSyncerOptions
        {
            TimeProvider = time,
            LoggerFactory = FakeLogs.Factory(logs),
            Backoff = { Random = new Fixed(0.999) },
        };
        await using var syncer = new WatcherSyncer(backend, [new ResourceType(new PrefixListOptions("/a/"))], new RecordingCallbacks(), options);
        syncer.Start();
        for (int i = 0; i < 8; i++)
        {
            await Eventually.Advancing(time, () => a.WatchRevisions.Count == i + 1, $"watch {i + 1} is open");
            time.Advance(TimeSpan.FromSeconds(90));
            watches[i].Added($"/a/{i}", "v", 100 + i);
            watches[i].End();
        }

        await Eventually.Advancing(time, () => a.WatchRevisions.Count == 9, "the ninth watch is open");
        List<double> delays = logs.GetSnapshot()
            .Where(r => r.Id.Id == 1013)
            .Select(r => TimeSpan.Parse(r.StructuredState!.First(kv => kv.Key == "Delay").Value!, CultureInfo.InvariantCulture).TotalSeconds)
            .ToList();
        delays.Should().HaveCount(8);
        delays.Should().OnlyContain(d => d <= 1.3, "no reconnect after a healthy watch waits beyond the first window (500 ms + 800 ms); delays: {0}", string.Join(", ", delays.Select(d => d.ToString("0.0", CultureInfo.InvariantCulture))));
    }

    /// <summary>Always draws the same point of the jitter window.</summary>
    private sealed class Fixed(double unit) : Random
    {
        public override double NextDouble() => unit;
    }
}
