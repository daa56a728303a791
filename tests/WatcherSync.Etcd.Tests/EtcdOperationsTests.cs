using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace WatcherSync.Etcd.Tests;

/// <summary>
/// An operator's ordinary day on a three-member cluster, under a steady writer and a syncer: a graceful rolling restart
/// of every member (the leader's stop hands leadership over), a member whose network loses every byte, and a short cut
/// of the whole network (loopback proxies the test owns). Checks: every write's outcome is what the client reported, or
/// the client said it is unknown; the syncer's picture equals etcd after quiescence; no acknowledged key is lost.
/// </summary>
[Collection(HeavyCollection.Name)]
public sealed class EtcdOperationsTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Types = 100;
    private IReadOnlyList<EtcdProcess> _members = [];
    private readonly List<TcpProxy> _proxies = [];

    public async Task InitializeAsync()
    {
        _members = await EtcdProcess.StartClusterAsync(3);
        _proxies.AddRange(_members.Select(m => new TcpProxy(m.ClientUrl)));
    }

    public async Task DisposeAsync()
    {
        foreach (TcpProxy proxy in _proxies)
        {
            await proxy.DisposeAsync();
        }

        foreach (EtcdProcess member in _members)
        {
            await member.DisposeAsync();
        }
    }

    [Fact]
    public async Task RollingRestart_LossyMember_NetworkCut_UnderWriterAndSyncer_OutcomesHold_PictureEqualsEtcd()
    {
        EtcdClientOptions options = TestOptions.For([.. _proxies.Select(p => p.Url)]);
        options.RequestTimeout = TimeSpan.FromSeconds(2);
        await using var client = new EtcdBackendClient(options);
        await using var direct = new EtcdBackendClient(TestOptions.For([.. _members.Select(m => m.ClientUrl)]));
        var sink = new RecordingCallbacks();
        await using ISyncer syncer = client.CreateSyncer(Enumerable.Range(0, Types).Select(t => new ResourceType(new PrefixListOptions($"/ops/t{t:D3}/"))), sink);
        syncer.Start();
        await Eventually.True(() => sink.LastStatus == SyncStatus.InSync, "the syncer is in sync", TimeSpan.FromSeconds(60));

        var writer = new Writer(client);
        var clock = Stopwatch.StartNew();
        Task writing = writer.RunAsync();
        try
        {
            // A graceful rolling restart, one member at a time, each restarted once the cluster is healthy again.
            foreach (EtcdProcess member in _members)
            {
                bool wasLeader = await EtcdCtl.LeaderAsync(_members) == member;
                await writer.ProgressAsync(100, $"before stopping {member.Name}");
                await member.StopAsync();
                await writer.ProgressAsync(100, $"while {member.Name} is down");
                await member.StartAgainAsync();
                output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s: restarted {member.Name}{(wasLeader ? " (was the leader)" : string.Empty)}; {writer.Summary}");
            }

            // One member's network loses every byte for 3 s, then the whole network is cut for 2 s.
            _proxies[0].Drop();
            var lossy = Stopwatch.StartNew();
            await writer.ProgressAsync(100, "while member 0 loses every byte");
            await Eventually.True(() => lossy.Elapsed > TimeSpan.FromSeconds(3), "the loss lasts 3 s");
            _proxies[0].Restore();
            var cut = Stopwatch.StartNew();
            foreach (TcpProxy proxy in _proxies)
            {
                proxy.Cut();
            }

            await Eventually.True(() => cut.Elapsed > TimeSpan.FromSeconds(2), "the cut lasts 2 s");
            foreach (TcpProxy proxy in _proxies)
            {
                proxy.Restore();
            }

            await writer.ProgressAsync(100, "after the cut");
        }
        finally
        {
            writer.Stop();
            await writing;
        }

        TimeSpan took = clock.Elapsed;
        output.WriteLine($"{took.TotalSeconds:0.0} s: {writer.Summary}; {writer.Acknowledged / took.TotalSeconds:0} acknowledged writes/s");

        // Quiescence: the syncer's picture is etcd's.
        Dictionary<string, string> etcd = await ListAsync(direct);
        await Eventually.True(
            () => Same(sink.Picture, etcd),
            $"the syncer's picture equals etcd ({etcd.Count} keys)",
            TimeSpan.FromSeconds(60));

        foreach ((string key, Outcome outcome) in writer.Outcomes)
        {
            switch (outcome)
            {
                case Outcome.Acknowledged:
                    etcd.Should().ContainKey(key, "an acknowledged write is never lost");
                    break;
                case Outcome.NotApplied:
                    etcd.Should().NotContainKey(key, "the client reported the write as not applied");
                    break;
            }
        }

        etcd.Keys.Should().BeSubsetOf(writer.Outcomes.Keys, "etcd holds only keys the writer sent");
        writer.Unexpected.Should().BeEmpty("every failure is transient: not applied, or outcome unknown");
    }

    private static async Task<Dictionary<string, string>> ListAsync(EtcdBackendClient client)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (KVPair kv in (await client.ListAsync(new PrefixListOptions("/ops/"))).KVPairs)
        {
            all[kv.Key.DefaultPath!] = System.Text.Encoding.UTF8.GetString((byte[])kv.Value!);
        }

        return all;
    }

    private static bool Same(Dictionary<string, object?> picture, Dictionary<string, string> etcd) =>
        picture.Count == etcd.Count && etcd.All(e => picture.TryGetValue(e.Key, out object? v) && v is byte[] b && System.Text.Encoding.UTF8.GetString(b) == e.Value);

    private enum Outcome
    {
        Acknowledged,
        NotApplied,
        Unknown,
    }

    /// <summary>Creates one new key after another and records what the client said about each.</summary>
    private sealed class Writer(EtcdBackendClient client)
    {
        private readonly CancellationTokenSource _stop = new();
        private int _acknowledged;
        private int _notApplied;
        private int _unknown;

        public ConcurrentDictionary<string, Outcome> Outcomes { get; } = new(StringComparer.Ordinal);

        public ConcurrentQueue<string> Unexpected { get; } = new();

        public int Acknowledged => Volatile.Read(ref _acknowledged);

        public string Summary => $"{Acknowledged} acknowledged, {Volatile.Read(ref _notApplied)} failed (not applied), {Volatile.Read(ref _unknown)} outcome unknown";

        public async Task RunAsync()
        {
            for (int i = 0; !_stop.IsCancellationRequested; i++)
            {
                string key = $"/ops/t{i % Types:D3}/k{i:D6}";
                try
                {
                    await client.CreateAsync(new KVPair(new PathKey(key), i.ToString(CultureInfo.InvariantCulture)));
                    Outcomes[key] = Outcome.Acknowledged;
                    Interlocked.Increment(ref _acknowledged);
                }
                catch (DatastoreUnavailableException ex) when (ex.OutcomeUnknown)
                {
                    Outcomes[key] = Outcome.Unknown;
                    Interlocked.Increment(ref _unknown);
                }
                catch (DatastoreUnavailableException)
                {
                    Outcomes[key] = Outcome.NotApplied;
                    Interlocked.Increment(ref _notApplied);
                }
                catch (DatastoreException ex)
                {
                    Outcomes[key] = Outcome.Unknown;
                    Unexpected.Enqueue($"{key}: {ex.GetType().Name}: {ex.Message}");
                }
            }
        }

        public Task ProgressAsync(int writes, string because)
        {
            int target = Acknowledged + writes;
            return Eventually.True(() => Acknowledged >= target, $"{writes} writes are acknowledged {because} ({Summary})", TimeSpan.FromSeconds(60));
        }

        public void Stop() => _stop.Cancel();
    }
}
