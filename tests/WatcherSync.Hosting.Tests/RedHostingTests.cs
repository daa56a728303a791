using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Hosting.Tests;

/// <summary>Attacks on the hosted syncer's stop and on its health options.</summary>
public sealed class RedHostingTests
{
    [Fact]
    public async Task HostStop_ASinkThatImplementsISyncerStoppingCallbacks_IsToldBeforeTheStopsDeletes()
    {
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddSingleton<StoppingSink>();
        builder.Services.AddWatcherSync().AddPrefix("/app/").AddSink<StoppingSink>();
        using IHost host = builder.Build();
        await host.Services.GetRequiredService<InMemoryBackend>().CreateAsync(new KVPair(new PathKey("/app/a"), "1"));
        StoppingSink sink = host.Services.GetRequiredService<StoppingSink>();

        await host.StartAsync();
        await Eventually.True(() => sink.Snapshot().Contains("status InSync"), "the hosted syncer reaches InSync");
        await host.StopAsync();

        sink.Snapshot().Should().ContainInOrder(["stopping", "deleted /app/a"], "a hosted sink, like any syncer callbacks, is told of the stop before its deletes");
    }

    private sealed class StoppingSink : ISyncerCallbacks, ISyncerStoppingCallbacks
    {
        private readonly List<string> _calls = [];

        public List<string> Snapshot()
        {
            lock (_calls)
            {
                return [.. _calls];
            }
        }

        public void OnStatusUpdated(SyncStatus status) => Add($"status {status}");

        public void OnUpdates(IReadOnlyList<Update> updates)
        {
            foreach (Update update in updates)
            {
                Add($"{update.UpdateType.ToString().ToLowerInvariant()} {update.KVPair.Key.DefaultPath}");
            }
        }

        public void OnStopping() => Add("stopping");

        private void Add(string call)
        {
            lock (_calls)
            {
                _calls.Add(call);
            }
        }
    }
}
