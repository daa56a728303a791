using System.Collections.Concurrent;
using System.Diagnostics;
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
        (_, EtcdProcess frozen, EtcdClientOptions options) = await StartOnAFollowerAsync();
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

    [Fact]
    public async Task FrozenFollower_QuietClient_KeepaliveMovesOff_ClientLifetimeKeyIsNotLost()
    {
        // Two healthy members remain, one of them the leader.
        (EtcdProcess leader, EtcdProcess frozen, EtcdClientOptions options) = await StartOnAFollowerAsync();
        options.ClientLeaseTtl = TimeSpan.FromSeconds(9);
        await using var client = new EtcdBackendClient(options);
        await using var direct = new EtcdBackendClient(TestOptions.For(leader.ClientUrl));
        int told = 0;
        client.ClientLeaseLost += (_, _) => Interlocked.Increment(ref told);
        var key = new PathKey("/fzl/alive");
        await client.ApplyWithClientLifetimeAsync(new KVPair(key, "v"));

        await frozen.SignalAsync("STOP");
        try
        {
            // Two TTLs: the keepalive must find a healthy member, as every other request does after one timeout.
            var clock = Stopwatch.StartNew();
            bool lost = false;
            await Eventually.True(
                () =>
                {
                    lost |= !EtcdClientLeaseTests.Exists(direct, key);
                    return lost || clock.Elapsed > TimeSpan.FromSeconds(18);
                },
                "two TTLs pass or the key is lost",
                TimeSpan.FromSeconds(60));
            lost.Should().BeFalse($"one frozen follower of three must not cost a client-lifetime key (lease lost events: {Volatile.Read(ref told)})");
        }
        finally
        {
            await frozen.SignalAsync("CONT");
        }
    }

    /// <summary>The leader, a follower that is to freeze, and options of a client that starts on that follower.</summary>
    private async Task<(EtcdProcess Leader, EtcdProcess Frozen, EtcdClientOptions Options)> StartOnAFollowerAsync()
    {
        EtcdProcess leader = await EtcdCtl.LeaderAsync(_members);
        EtcdProcess frozen = _members.First(m => m != leader);
        return (leader, frozen, TestOptions.For([frozen.ClientUrl, .. _members.Where(m => m != frozen).Select(m => m.ClientUrl)]));
    }
}
