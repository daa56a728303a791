using FluentAssertions;
using Microsoft.Extensions.Logging.Testing;
using WatcherSync.Chaos.Tests.Harness;
using WatcherSync.Etcd;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace WatcherSync.Chaos.Tests;

/// <summary>A three-member cluster losing its leader, the member the client is attached to, or its quorum.</summary>
public sealed class EtcdClusterChaosTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly string[] Prefixes = ["/cluster/a/", "/cluster/b/"];
    private IReadOnlyList<EtcdProcess> _members = [];

    public async Task InitializeAsync() => _members = await EtcdProcess.StartClusterAsync(3);

    public async Task DisposeAsync()
    {
        foreach (EtcdProcess member in _members)
        {
            await member.DisposeAsync();
        }
    }

    [Fact]
    public Task KillTheLeader_Repeatedly_SinkConverges() => RunAsync("etcd cluster: kill the leader", async (_, _) => await EtcdAdmin.LeaderAsync(_members, TimeSpan.FromSeconds(30)));

    [Fact]
    public Task KillTheAttachedMember_Repeatedly_ClientFailsOverAndSinkConverges() => RunAsync("etcd cluster: kill the attached member", (logs, _) => Task.FromResult(Attached(logs)));

    [Fact]
    public async Task MemberIsolatedWithoutLeader_ClientMovesAwayInsteadOfGoingSilent_SinkConverges()
    {
        int seed = Soak.NewSeed();
        output.WriteLine($"seed {seed}");
        (EtcdBackendClient direct, EtcdBackendClient client, FakeLogCollector logs) = Clients();
        await using (direct)
        await using (client)
        {
            await using var mirror = new Mirror(client, Prefixes);
            mirror.Start();
            var writers = new Writers(direct, Prefixes, keysPerPrefix: 100, count: 3, seed);
            using var stop = new CancellationTokenSource();
            Task writing = writers.RunAsync(maxWrites: 100_000, maxTime: TimeSpan.FromMinutes(3), stop.Token);
            await writers.MoreAsync(300, TimeSpan.FromSeconds(60));
            await Eventually.True(() => mirror.Recorder.LastStatus == SyncStatus.InSync, "the mirror is in sync first");

            EtcdProcess isolated = Attached(logs);
            EtcdProcess[] peers = [.. _members.Where(m => m != isolated)];
            output.WriteLine($"isolating {isolated.Name}: freezing {string.Join(", ", peers.Select(p => p.Name))}");
            int before = logs.GetSnapshot().Count;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            TimeSpan left = TimeSpan.Zero;
            foreach (EtcdProcess peer in peers)
            {
                await EtcdAdmin.SignalAsync(peer, "STOP");
            }

            try
            {
                // hasleader: the member ends the watch with "no leader" and the client moves on, rather than wait silently.
                await Eventually.True(
                    () => logs.GetSnapshot().Skip(before).Any(e => e.Id.Id == 3005 && e.Message.Contains("leader", StringComparison.OrdinalIgnoreCase)),
                    $"the watch on {isolated.Name} fails with no leader and moves off it",
                    TimeSpan.FromSeconds(30));
                left = clock.Elapsed;
                output.WriteLine($"the watch left {isolated.Name} after {left.TotalSeconds:0.0} s without a leader");
            }
            finally
            {
                foreach (EtcdProcess peer in peers)
                {
                    await EtcdAdmin.SignalAsync(peer, "CONT");
                }
            }

            TimeSpan converge = await mirror.SettleAsync(writers, direct, TimeSpan.FromSeconds(90), output.WriteLine, $"seed {seed}, peers back");
            await writers.MoreAsync(300, TimeSpan.FromSeconds(60));
            await stop.CancelAsync();
            await writing;
            var figures = new Figures("etcd cluster: member isolated, no leader");
            figures.Add(writers.Acknowledged, 1, converge, lost: 0);
            figures.Report(output, $"the watch left the leaderless member {left.TotalSeconds:0.0} s after its peers froze");
        }
    }

    private async Task RunAsync(string fault, Func<FakeLogCollector, int, Task<EtcdProcess>> victim)
    {
        int seed = Soak.NewSeed();
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        int kills = Soak.Pick(5, 15);
        var figures = new Figures(fault);
        (EtcdBackendClient direct, EtcdBackendClient client, FakeLogCollector logs) = Clients();
        await using (direct)
        await using (client)
        {
            await using var mirror = new Mirror(client, Prefixes);
            mirror.Start();
            var writers = new Writers(direct, Prefixes, keysPerPrefix: 100, count: 3, seed);
            using var stop = new CancellationTokenSource();
            Task writing = writers.RunAsync(maxWrites: 100_000, maxTime: TimeSpan.FromMinutes(4), stop.Token);
            for (int i = 0; i < kills; i++)
            {
                await writers.MoreAsync(100 + random.Next(200), TimeSpan.FromSeconds(60));
                EtcdProcess member = await victim(logs, i);
                output.WriteLine($"kill {i}: {member.Name}");
                member.Kill();
                await writers.MoreAsync(100 + random.Next(200), TimeSpan.FromSeconds(60));
                figures.Converged(await mirror.SettleAsync(writers, direct, TimeSpan.FromSeconds(90), output.WriteLine, $"seed {seed}, kill {i}, {member.Name} down"));
                await member.StartAgainAsync();
            }

            await stop.CancelAsync();
            await writing;
            figures.Converged(await mirror.SettleAsync(writers, direct, TimeSpan.FromSeconds(90), output.WriteLine, $"seed {seed}, every member back"));
            figures.Run(writers.Acknowledged, kills, lost: 0);
            figures.Report(output, $"{writers.Failed} writes failed during elections; settled with the member down and after");
        }
    }

    private (EtcdBackendClient Direct, EtcdBackendClient Client, FakeLogCollector Logs) Clients()
    {
        string[] endpoints = [.. _members.Select(m => m.ClientUrl)];
        var logs = new FakeLogCollector();
        EtcdClientOptions options = TestOptions.For(endpoints);
        options.LoggerFactory = FakeLogs.Factory(logs);
        return (new EtcdBackendClient(TestOptions.For(endpoints)), new EtcdBackendClient(options), logs);
    }

    /// <summary>The member the first prefix's watch last connected to.</summary>
    private EtcdProcess Attached(FakeLogCollector logs)
    {
        FakeLogRecord connected = logs.GetSnapshot().Last(e => e.Id.Id == 3004 && e.Message.Contains(Prefixes[0], StringComparison.Ordinal));
        return _members.Single(m => connected.Message.Contains(m.ClientUrl + " ", StringComparison.Ordinal));
    }
}
