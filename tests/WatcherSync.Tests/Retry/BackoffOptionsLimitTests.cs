using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Testing.ScriptedBackend;

namespace WatcherSync.Tests.Retry;

/// <summary>Attacks on the syncer's backoff with option values at the edges that its validation accepts.</summary>
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

    /// <summary>Always draws the same point of the jitter window.</summary>
    private sealed class Fixed(double unit) : Random
    {
        public override double NextDouble() => unit;
    }
}
