using Microsoft.Extensions.Diagnostics.HealthChecks;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Hosting.Tests;

/// <summary>Edge cases of several syncers in one host.</summary>
public sealed class NamedSyncerSharedSinkTests
{
    [Fact]
    public async Task TwoNamedSyncers_TheSameSinkTypeAdded_TheSinkIsNeverCalledTwiceAtOnce()
    {
        // As docs/hosting.md shows it, one sink type per syncer; an operator adds the same audit sink to both.
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddWatcherSync("pods", o => o.Syncer.Name = "pods").AddPrefix("/registry/pods/").AddSink<OverlapSink>();
        builder.Services.AddWatcherSync("nodes", o => o.Syncer.Name = "nodes").AddPrefix("/registry/nodes/").AddSink<OverlapSink>();
        using IHost host = builder.Build();
        InMemoryBackend store = host.Services.GetRequiredService<InMemoryBackend>();
        await store.CreateAsync(new KVPair(new PathKey("/registry/pods/a"), "1"));
        await store.CreateAsync(new KVPair(new PathKey("/registry/nodes/n"), "1"));
        OverlapSink sink = host.Services.GetRequiredService<OverlapSink>();

        await host.StartAsync();
        try
        {
            await Eventually.True(() => sink.Keys.Count == 2, "the sink gets both prefixes");
            sink.MostCallsAtOnce.Should().Be(1, "docs/hosting.md: each sink gets its calls from one queue, in order, never two calls at once");
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public async Task TwoNamedSyncers_AsTheDocsShowThem_AreToldApartInHealthData()
    {
        // docs/hosting.md "Several syncers in one host": the names are given to AddWatcherSync, not to Syncer.Name.
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddWatcherSync("pods", o => o.Prefixes.Add("/registry/pods/")).AddSink(_ => new RecordingCallbacks());
        builder.Services.AddWatcherSync("nodes", o => o.Prefixes.Add("/registry/nodes/")).AddSink(_ => new RecordingCallbacks());
        builder.Services.AddHealthChecks()
            .AddWatcherSync("pods", syncer: "pods", failureStatus: null, tags: ["ready"])
            .AddWatcherSync("nodes", syncer: "nodes", failureStatus: null, tags: ["ready"]);
        using IHost host = builder.Build();

        await host.StartAsync();
        try
        {
            HealthReport report = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            report.Entries["pods"].Data["syncer"].Should().Be("pods", "a named syncer logs, measures and reports under its name unless Syncer.Name says otherwise");
            report.Entries["nodes"].Data["syncer"].Should().Be("nodes");
        }
        finally
        {
            await host.StopAsync();
        }
    }

    /// <summary>
    /// Counts the calls in progress. Its first call with updates waits (at most 10 s) for another call to come in
    /// meanwhile: none can when calls come one at a time.
    /// </summary>
    private sealed class OverlapSink : ISyncerCallbacks
    {
        private readonly ManualResetEventSlim _secondCall = new();
        private int _inCall;
        private int _most;
        private int _updateCalls;

        public int MostCallsAtOnce => Volatile.Read(ref _most);

        public HashSet<string> Keys { get; } = [];

        public void OnStatusUpdated(SyncStatus status) => Enter(() => { });

        public void OnUpdates(IReadOnlyList<Update> updates) => Enter(() =>
        {
            lock (Keys)
            {
                foreach (Update update in updates)
                {
                    Keys.Add(update.KVPair.Key.DefaultPath);
                }
            }

            if (Interlocked.Increment(ref _updateCalls) == 1)
            {
                _secondCall.Wait(TimeSpan.FromSeconds(10));
            }
        });

        private void Enter(Action call)
        {
            int now = Interlocked.Increment(ref _inCall);
            if (now > 1)
            {
                _secondCall.Set();
            }

            int most;
            while (now > (most = Volatile.Read(ref _most)) && Interlocked.CompareExchange(ref _most, now, most) != most)
            {
            }

            try
            {
                call();
            }
            finally
            {
                Interlocked.Decrement(ref _inCall);
            }
        }
    }
}
