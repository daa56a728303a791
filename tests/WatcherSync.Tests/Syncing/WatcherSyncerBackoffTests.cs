using System.Globalization;
using FluentAssertions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Testing.ScriptedBackend;

namespace WatcherSync.Tests.Syncing;

/// <summary>How a syncer spaces list retries, watch reconnects and relists after errors (the retry delays are read from its log).</summary>
public sealed class WatcherSyncerBackoffTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private readonly List<(WatcherSyncer Syncer, FakeLogCollector Logs)> _syncers = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach ((WatcherSyncer syncer, _) in _syncers)
        {
            await syncer.DisposeAsync();
        }
    }

    [Fact]
    public async Task ListFailures_RetriesGrowByTheFactorAboveTheListRetryInterval_UpToTheCap()
    {
        var backend = new ScriptedBackend();
        Script a = backend.For("/a/");
        for (int i = 0; i < 8; i++)
        {
            a.ListFails(new DatastoreUnavailableException("connection refused"));
        }

        FakeLogCollector logs = Start(backend, new Random(1), top: true);
        await Until(() => a.ListCalls == 9, "eight lists failed and the ninth is waiting", TimeSpan.FromSeconds(1));

        // floor (ListRetryInterval 1 s) + min(800 ms × 2^n, 30 s − 1 s): the top of each jitter window.
        Delays(logs).Select(d => d.TotalMilliseconds).Should().Equal(1800, 2600, 4200, 7400, 13800, 26600, 30000, 30000);
    }

    [Fact]
    public async Task WatchFailures_ReconnectsGrowAboveTheMinResyncInterval_AndResetAfterAHealthyPeriod()
    {
        var backend = new ScriptedBackend();
        Script a = backend.For("/a/");
        a.List(10, Pair("/a/k", "v", 1));
        for (int i = 0; i < 3; i++)
        {
            a.WatchFails(new DatastoreUnavailableException("connection refused"));
        }

        ScriptedWatch healthy = a.Watch();
        FakeLogCollector logs = Start(backend, new Random(1), top: true);
        await Until(() => a.WatchRevisions.Count == 4, "three reconnects, then a watch that works");
        Delays(logs).Select(d => d.TotalMilliseconds).Should().Equal(1300, 2100, 3700);

        // The watch stays healthy for two minutes, then breaks: the backoff starts again from its first window.
        _time.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(4));
        healthy.Error(new DatastoreUnavailableException("etcd restarted"));
        a.Watch();
        await Until(() => a.WatchRevisions.Count == 5, "the watch reconnects");
        Delays(logs).Select(d => d.TotalMilliseconds).Should().Equal(1300, 2100, 3700, 1300);
    }

    [Fact]
    public async Task ListFailures_SeededJitter_EveryDelayInItsWindow()
    {
        var backend = new ScriptedBackend();
        Script a = backend.For("/a/");
        for (int i = 0; i < 10; i++)
        {
            a.ListFails(new DatastoreUnavailableException("connection refused"));
        }

        FakeLogCollector logs = Start(backend, new Random(3), top: false);
        await Until(() => a.ListCalls == 11, "ten lists failed", TimeSpan.FromSeconds(1));

        List<TimeSpan> delays = Delays(logs);
        delays.Should().HaveCount(10);
        for (int n = 0; n < delays.Count; n++)
        {
            delays[n].TotalMilliseconds.Should().BeInRange(1000, 1000 + Math.Min(800 * Math.Pow(2, n), 29_000), "retry {0} lies in its window", n);
        }

        delays.Distinct().Should().HaveCount(10, "each retry draws its own jitter");
    }

    [Fact]
    public async Task TwoSyncers_DifferentSeeds_DoNotRetryInLockStep()
    {
        var backends = new[] { new ScriptedBackend(), new ScriptedBackend() };
        var logs = new FakeLogCollector[2];
        for (int s = 0; s < 2; s++)
        {
            for (int i = 0; i < 6; i++)
            {
                backends[s].For("/a/").ListFails(new DatastoreUnavailableException("connection refused"));
            }

            logs[s] = Start(backends[s], new Random(100 + s), top: false);
        }

        await Until(() => backends.All(b => b.For("/a/").ListCalls == 7), "both syncers retried six times", TimeSpan.FromSeconds(1));

        // Both failed their first list at the same instant (a datastore restart); with fixed intervals every retry
        // would land at the same instant too. Each retry happens at the sum of the delays before it.
        double[][] retryTimes = logs.Select(l => Running(Delays(l).Select(d => d.TotalMilliseconds))).ToArray();
        retryTimes[0].Should().HaveCount(6);
        retryTimes[1].Should().HaveCount(6);
        double[] apart = retryTimes[0].Zip(retryTimes[1], (x, y) => Math.Abs(x - y)).ToArray();
        apart.Should().OnlyContain(d => d > 10, "no retry of one syncer lands within 10 ms of the other's; apart: {0}", string.Join(", ", apart));
    }

    private FakeLogCollector Start(ScriptedBackend backend, Random random, bool top)
    {
        var logs = new FakeLogCollector();
        var options = new WatcherSyncerOptions
        {
            TimeProvider = _time,
            LoggerFactory = FakeLogs.Factory(logs),
            Backoff = { Random = top ? new TopOfWindow() : random },
        };
        var syncer = new WatcherSyncer(backend, [new ResourceType(new PrefixListOptions("/a/"))], new RecordingCallbacks(), options);
        _syncers.Add((syncer, logs));
        syncer.Start();
        return logs;
    }

    private static List<TimeSpan> Delays(FakeLogCollector logs) => logs.GetSnapshot()
        .Where(r => r.Id.Id == 1013)
        .Select(r => TimeSpan.Parse(r.StructuredState!.First(kv => kv.Key == "Delay").Value!, CultureInfo.InvariantCulture))
        .ToList();

    private static double[] Running(IEnumerable<double> values)
    {
        double sum = 0;
        return values.Select(v => sum += v).ToArray();
    }

    private Task Until(Func<bool> condition, string because, TimeSpan? step = null) => Eventually.Advancing(_time, condition, because, step);

    /// <summary>Draws the top of every jitter window, so that the delays show the growth itself.</summary>
    private sealed class TopOfWindow : Random
    {
        public override double NextDouble() => 1.0;
    }
}
