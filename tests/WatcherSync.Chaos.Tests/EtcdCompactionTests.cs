using FluentAssertions;
using Microsoft.Extensions.Logging.Testing;
using WatcherSync.Chaos.Tests.Harness;
using WatcherSync.Etcd;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace WatcherSync.Chaos.Tests;

/// <summary>Compaction and defragmentation of etcd while the watch is connected, and while it is cut off.</summary>
public sealed class EtcdCompactionTests(ITestOutputHelper output) : IAsyncLifetime
{
    private EtcdProcess _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdProcess.StartAsync();

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    [Fact]
    public Task CompactAndDefragment_WatchConnected_SinkConverges() => RunAsync(disconnected: false);

    [Fact]
    public Task CompactAndDefragment_WatchCutOff_RelistsAndSinkConverges() => RunAsync(disconnected: true);

    private async Task RunAsync(bool disconnected)
    {
        var figures = new Figures(disconnected ? "etcd compact+defrag, watch cut off" : "etcd compact+defrag, watch connected");
        int runs = Soak.Pick(3, 10);
        int compactionsPerRun = Soak.Pick(5, 15);
        int relistsSeen = 0;
        for (int run = 0; run < runs; run++)
        {
            int seed = Soak.NewSeed();
            output.WriteLine($"run {run}: seed {seed}");
            var random = new Random(seed);
            string[] prefixes = [$"/compact{run}/a/", $"/compact{run}/b/"];
            await using var proxy = new TcpProxy(_etcd.ClientUrl);
            await using var direct = new EtcdBackendClient(TestOptions.For(_etcd.ClientUrl));
            await using var client = new EtcdBackendClient(TestOptions.For(proxy.Url));
            var logs = new FakeLogCollector();
            WatcherSyncerOptions options = Mirror.FastOptions();
            options.LoggerFactory = FakeLogs.Factory(logs);
            await using var mirror = new Mirror(client, prefixes, options);
            mirror.Start();
            var writers = new Writers(direct, prefixes, keysPerPrefix: 150, count: 3, seed);
            using var stop = new CancellationTokenSource();
            Task writing = writers.RunAsync(maxWrites: 200_000, maxTime: TimeSpan.FromMinutes(4), stop.Token);

            for (int i = 0; i < compactionsPerRun; i++)
            {
                await writers.MoreAsync(100 + random.Next(200), TimeSpan.FromSeconds(60));
                if (disconnected)
                {
                    proxy.Cut();
                    await writers.MoreAsync(50 + random.Next(100), TimeSpan.FromSeconds(60));
                }

                await direct.CompactAsync(revision: null);
                await EtcdAdmin.DefragmentAsync(_etcd.ClientUrl);
                if (disconnected)
                {
                    proxy.Restore();
                }

                figures.Converged(await mirror.SettleAsync(writers, direct, TimeSpan.FromSeconds(60), output.WriteLine, $"seed {seed}, compaction {i}"));
            }

            await stop.CancelAsync();
            await writing;
            int relists = logs.GetSnapshot().Count(e => e.Id.Id == 1001 && e.Message.Contains("Compacted", StringComparison.Ordinal));
            relistsSeen += relists;
            if (disconnected)
            {
                relists.Should().BeGreaterThanOrEqualTo(compactionsPerRun, "a watch cut off across a compaction must relist");
            }

            output.WriteLine($"run {run}: {writers.Acknowledged} writes, {compactionsPerRun} compactions, {relists} relists after compaction");
            figures.Run(writers.Acknowledged, compactionsPerRun * (disconnected ? 3 : 2), lost: 0);
        }

        figures.Report(output, $"faults = compactions + defrags{(disconnected ? " + cuts" : string.Empty)}; {relistsSeen} relists after compaction");
    }
}
