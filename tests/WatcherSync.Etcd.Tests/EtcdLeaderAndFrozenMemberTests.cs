using System.Collections.Concurrent;
using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Etcd.Tests;

/// <summary>A three-member cluster under ordinary operations: graceful leader transfers and a frozen member.</summary>
public sealed class EtcdLeaderAndFrozenMemberTests : IAsyncLifetime
{
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
    public async Task LeaderTransfers_UnderSteadyWrites_NoWriteFails()
    {
        await using var client = new EtcdBackendClient(TestOptions.For([.. _members.Select(m => m.ClientUrl)]));
        var failures = new ConcurrentQueue<string>();
        int written = 0;
        int unknown = 0;
        using var stop = new CancellationTokenSource();
        Task[] writers = [.. Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (int i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    await client.ApplyAsync(new KVPair(new PathKey($"/lt/w{w}/k{i}"), "v"));
                    Interlocked.Increment(ref written);
                }
                catch (DatastoreUnavailableException ex) when (ex.OutcomeUnknown)
                {
                    // A proposal forwarded to a leader that is handing over is dropped silently: the reply never comes.
                    Interlocked.Increment(ref unknown);
                }
                catch (DatastoreException ex)
                {
                    failures.Enqueue(ex.Message);
                }
            }
        }))];

        for (int transfer = 0; transfer < 6; transfer++)
        {
            int before = Volatile.Read(ref written);
            await Eventually.True(() => Volatile.Read(ref written) >= before + 50, "writes go on between transfers", TimeSpan.FromSeconds(30));
            EtcdProcess leader = await EtcdCtl.LeaderAsync(_members);
            EtcdProcess target = _members[(_members.ToList().IndexOf(leader) + 1) % _members.Count];
            await EtcdCtl.MoveLeaderAsync(leader, target);
        }

        int last = Volatile.Read(ref written);
        await Eventually.True(() => Volatile.Read(ref written) >= last + 50, "writes go on after the last transfer", TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        failures.Should().BeEmpty($"a write refused during a leader transfer (\"raft proposal dropped\") was not applied and is sent again ({written} written, {unknown} with an unknown outcome)");
    }

    [Fact]
    public async Task FrozenMember_OnlyTheWriteThatTimedOutFails_LaterWritesGoElsewhere()
    {
        EtcdProcess leader = await EtcdCtl.LeaderAsync(_members);
        EtcdProcess frozen = _members.First(m => m != leader);

        // The client starts on the member that freezes.
        EtcdClientOptions options = TestOptions.For([frozen.ClientUrl, .. _members.Where(m => m != frozen).Select(m => m.ClientUrl)]);
        options.RequestTimeout = TimeSpan.FromSeconds(2);
        await using var client = new EtcdBackendClient(options);
        await client.ApplyAsync(new KVPair(new PathKey("/fz/warm"), "v"));
        await frozen.SignalAsync("STOP");
        try
        {
            var outcomes = new List<string>();
            for (int i = 0; i < 10; i++)
            {
                try
                {
                    await client.ApplyAsync(new KVPair(new PathKey($"/fz/k{i}"), "v"));
                    outcomes.Add("ok");
                }
                catch (DatastoreUnavailableException ex)
                {
                    outcomes.Add(ex.Message);
                }
            }

            outcomes.Skip(1).Should().AllBe("ok", "after one timeout the client leaves the frozen member (outcomes: {0})", string.Join("; ", outcomes));
        }
        finally
        {
            await frozen.SignalAsync("CONT");
        }
    }
}
