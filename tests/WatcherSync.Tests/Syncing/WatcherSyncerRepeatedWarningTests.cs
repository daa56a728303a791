using FluentAssertions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Testing.ScriptedBackend;

namespace WatcherSync.Tests.Syncing;

/// <summary>A datastore that stays unreachable is a warning a minute, not one per retry, and no failure goes uncounted.</summary>
public sealed class WatcherSyncerRepeatedWarningTests
{
    private const int Failures = 40;

    [Fact]
    public async Task ListFailingForMinutes_WarnsOnceAMinute_WithTheCountOfTheRest_AndSaysWhenItWorksAgain()
    {
        var time = new FakeTimeProvider();
        var backend = new ScriptedBackend();
        Script a = backend.For("/a/");
        for (int i = 0; i < Failures; i++)
        {
            a.ListFails(new DatastoreUnavailableException("connection refused"));
        }

        a.List(10, Pair("/a/k", "v", 1));
        var logs = new FakeLogCollector();
        await using var syncer = new WatcherSyncer(backend, [new ResourceType(new PrefixListOptions("/a/"))], new RecordingCallbacks(), new WatcherSyncerOptions
        {
            TimeProvider = time,
            LoggerFactory = FakeLogs.Factory(logs),
            Backoff = { MaxDelay = TimeSpan.FromSeconds(5), Random = new Random(7) },
        });
        DateTimeOffset started = time.GetUtcNow();
        syncer.Start();

        await Eventually.Advancing(time, () => a.ListCalls == Failures + 1, "the lists failed, then one worked", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        await Eventually.True(() => syncer.Status == SyncStatus.InSync, "the list that worked is delivered");

        TimeSpan failing = time.GetUtcNow() - started;
        failing.Should().BeGreaterThan(TimeSpan.FromMinutes(2), "the failures span several minutes");
        IReadOnlyList<FakeLogRecord> records = logs.GetSnapshot();
        List<FakeLogRecord> warnings = [.. records.Where(r => r.Level >= LogLevel.Warning && r.Category == typeof(WatcherSyncer).FullName)];
        warnings.Should().HaveCountLessThanOrEqualTo((int)Math.Ceiling(failing / TimeSpan.FromMinutes(1)) + 1, "one warning a minute, not one per retry");
        warnings[0].Id.Id.Should().Be(1003, "the first failure is logged as itself");
        warnings.Skip(1).Should().OnlyContain(r => r.Id.Id == 1015, "later ones summarise the repeats");
        int summarised = records.Where(r => r.Id.Id is 1015 or 1016).Sum(r => int.Parse(r.StructuredState!.First(kv => kv.Key == "Repeats").Value!, System.Globalization.CultureInfo.InvariantCulture));
        (warnings.Count + summarised).Should().Be(Failures, "every failure is either logged or counted in a summary");
        records.Count(r => r.Id.Id == 1001).Should().Be(1, "a retry of a failing list is not a new full sync");
        records.Should().Contain(r => r.Id.Id == 1016, "the end of the run is logged");
    }
}
