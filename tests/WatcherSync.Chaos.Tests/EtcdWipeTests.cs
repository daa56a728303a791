using FluentAssertions;
using Microsoft.Extensions.Logging.Testing;
using WatcherSync.Chaos.Tests.Harness;
using WatcherSync.Etcd;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace WatcherSync.Chaos.Tests;

/// <summary>An etcd whose data is wiped and that restarts empty: its revision goes backwards under the watch.</summary>
public sealed class EtcdWipeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private EtcdProcess _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdProcess.StartAsync();

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    [Fact]
    public async Task DataWipedAndRestarted_ResetDetected_FullRelist_SinkConverges()
    {
        var figures = new Figures("etcd data wiped and restarted");
        int runs = Soak.Pick(5, 20);
        for (int run = 0; run < runs; run++)
        {
            int seed = Soak.NewSeed();
            output.WriteLine($"run {run}: seed {seed}");
            var random = new Random(seed);
            string[] prefixes = ["/wipe/a/", "/wipe/b/"];
            await using var direct = new EtcdBackendClient(TestOptions.For(_etcd.ClientUrl));
            await using var client = new EtcdBackendClient(TestOptions.For(_etcd.ClientUrl));
            var logs = new FakeLogCollector();
            WatcherSyncerOptions options = Mirror.FastOptions();
            options.LoggerFactory = FakeLogs.Factory(logs);
            await using var mirror = new Mirror(client, prefixes, options);
            mirror.Start();
            var writers = new Writers(direct, prefixes, keysPerPrefix: 150, count: 3, seed);
            using var stop = new CancellationTokenSource();
            Task writing = writers.RunAsync(maxWrites: 100_000, maxTime: TimeSpan.FromMinutes(3), stop.Token);

            // Enough history before the wipe that the emptied store stays below the revision the watch has seen
            // until the watch is back: a store that overtakes it first cannot be told from one that went on.
            await writers.MoreAsync(1500 + random.Next(1000), TimeSpan.FromSeconds(60));
            await Eventually.True(() => mirror.Recorder.LastStatus == SyncStatus.InSync && mirror.Buffer.QueueLength == 0, "the mirror has caught up before the wipe", TimeSpan.FromSeconds(60));
            _etcd.Kill();
            Directory.Delete(_etcd.DataDir, recursive: true);
            await _etcd.StartAgainAsync();
            figures.Converged(await mirror.SettleAsync(writers, direct, TimeSpan.FromSeconds(60), output.WriteLine, $"seed {seed}, right after the wipe"));
            await writers.MoreAsync(100 + random.Next(300), TimeSpan.FromSeconds(60));
            await stop.CancelAsync();
            await writing;

            TimeSpan converge = await mirror.ConvergeAsync(direct, TimeSpan.FromSeconds(60), output.WriteLine);
            mirror.Recorder.Violations.Should().BeEmpty($"seed {seed}");
            logs.GetSnapshot().Should().Contain(e => e.Id.Id == 1001 && e.Message.Contains("Reset", StringComparison.Ordinal), "the reset is detected and relisted");
            output.WriteLine($"run {run}: {writers.Acknowledged} writes, converged in {converge.TotalSeconds:0.000} s after the last writes");
            figures.Run(writers.Acknowledged, 1, lost: 0);
        }

        figures.Report(output, "one wipe per run");
    }
}
