using FluentAssertions;
using WatcherSync.Chaos.Tests.Harness;
using WatcherSync.Etcd;
using WatcherSync.Etcd.Tests.Infrastructure;
using Xunit;
using Xunit.Abstractions;

namespace WatcherSync.Chaos.Tests;

/// <summary>The single etcd server killed with SIGKILL and restarted, again and again, while writers write.</summary>
public sealed class EtcdKillRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private EtcdProcess _etcd = null!;

    public async Task InitializeAsync() => _etcd = await EtcdProcess.StartAsync();

    public async Task DisposeAsync() => await _etcd.DisposeAsync();

    [Fact]
    public async Task KillNineAndRestart_TenTimesDuringWrites_SinkConvergesWithNothingLost()
    {
        var figures = new Figures("etcd kill -9 and restart x10");
        int runs = Soak.Pick(3, 10);
        long failedWrites = 0;
        for (int run = 0; run < runs; run++)
        {
            int seed = Soak.NewSeed();
            output.WriteLine($"run {run}: seed {seed}");
            var random = new Random(seed);
            string[] prefixes = [$"/kill{run}/a/", $"/kill{run}/b/"];
            await using var direct = new EtcdBackendClient(TestOptions.For(_etcd.ClientUrl));
            await using var client = new EtcdBackendClient(TestOptions.For(_etcd.ClientUrl));
            await using var mirror = new Mirror(client, prefixes);
            mirror.Start();
            var writers = new Writers(direct, prefixes, keysPerPrefix: 200, count: 4, seed);
            using var stop = new CancellationTokenSource();
            Task writing = writers.RunAsync(maxWrites: 200_000, maxTime: TimeSpan.FromMinutes(4), stop.Token);

            const int Kills = 10;
            for (int i = 0; i < Kills; i++)
            {
                await writers.MoreAsync(50 + random.Next(250), TimeSpan.FromSeconds(60));
                _etcd.Kill();

                // The outage itself: a random stretch with the server gone while the writers keep trying.
                await Task.Delay(random.Next(400));
                await _etcd.StartAgainAsync();
                figures.Converged(await mirror.SettleAsync(writers, direct, TimeSpan.FromSeconds(90), output.WriteLine, $"seed {seed}, kill {i}"));
            }

            await stop.CancelAsync();
            await writing;
            output.WriteLine($"run {run}: {writers.Acknowledged} writes ({writers.Failed} failed)");
            figures.Run(writers.Acknowledged, Kills, lost: 0);
            failedWrites += writers.Failed;
        }

        figures.Report(output, $"{failedWrites} writes failed while the server was down");
    }
}
