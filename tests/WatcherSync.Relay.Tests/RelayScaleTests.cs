using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>A hundred clients, each on its own connection, on one relay: a small version of the benchmark for CI.</summary>
public sealed class RelayScaleTests
{
    [Fact]
    public async Task HundredClients_ShareOneSnapshot_AndAllConvergeThroughWrites()
    {
        const int Clients = 100;
        await using var store = new InMemoryBackend();
        for (int i = 0; i < 1000; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), new string('x', 200)));
        }

        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        await Eventually.True(() => relay.Feed().Status == SyncStatus.InSync, "the feed is in sync");
        var clients = new List<(RelaySyncer Syncer, RecordingCallbacks Callbacks)>();
        try
        {
            for (int i = 0; i < Clients; i++)
            {
                var callbacks = new RecordingCallbacks();
                var syncer = new RelaySyncer(Relays.Client(relay.Address), callbacks);
                syncer.Start();
                clients.Add((syncer, callbacks));
            }

            await Eventually.True(() => clients.All(c => c.Callbacks.LastStatus == SyncStatus.InSync), "every client is in sync", TimeSpan.FromSeconds(60));
            relay.Feed().SnapshotsEncoded.Should().Be(1, "with no writes while they joined, every client takes the same encoded snapshot");
            relay.Host.Connections.Count.Should().Be(Clients);

            for (int i = 0; i < 200; i++)
            {
                await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i * 7 % 1200)), $"w{i}"));
            }

            foreach ((_, RecordingCallbacks callbacks) in clients)
            {
                await Relays.ConvergedAsync(callbacks, store, "each client after the writes", TimeSpan.FromSeconds(60));
                callbacks.Violations.Should().BeEmpty();
            }
        }
        finally
        {
            await Task.WhenAll(clients.Select(c => c.Syncer.DisposeAsync().AsTask()));
        }
    }
}
