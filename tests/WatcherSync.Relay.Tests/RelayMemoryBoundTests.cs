using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Relay.Server;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// The relay's memory with slow clients: clients that joined at different times during churn must not each keep a
/// whole snapshot alive. Besides the latest, at most <see cref="RelayServerOptions.MaxSupersededSnapshots"/>
/// superseded snapshots stay pinned; the readers of older ones are cut off and come back for the latest.
/// </summary>
public sealed class RelayMemoryBoundTests
{
    [Fact]
    public async Task SlowClientsJoiningDuringChurn_PinAtMostTheLatestAndMaxSupersededSnapshots_AndAllConverge()
    {
        await using var store = new InMemoryBackend();
        // 32 MB: far more than the transport's windows and buffers hold, so a held client keeps its snapshot pinned.
        string value = new('m', 8 * 1024);
        for (int i = 0; i < 4000; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), value));
        }

        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store, options =>
        {
            options.MaxSupersededSnapshots = 1;

            // The held clients are slow, not dead: only the snapshot bound may cut them off.
            options.WriteTimeout = TimeSpan.FromMinutes(5);
            options.PingTimeout = TimeSpan.FromMinutes(5);
        }));
        await Eventually.True(() => relay.Feed().Status == SyncStatus.InSync, "the relay is in sync");
        using var cutOffs = new RelayCounter(relay, "watchersync.relay.clients_cut_off");

        var gates = new List<ManualResetEventSlim>();
        var clients = new List<(RelaySyncer Syncer, RecordingCallbacks Callbacks)>();
        try
        {
            for (int c = 0; c < 3; c++)
            {
                var gate = new ManualResetEventSlim(false);
                gates.Add(gate);
                var callbacks = new RecordingCallbacks { UpdatesGate = gate };
                RelaySyncerOptions options = Relays.Client(relay.Address);
                options.SilenceTimeout = TimeSpan.FromMinutes(5);
                var syncer = new RelaySyncer(options, callbacks);
                clients.Add((syncer, callbacks));
                syncer.Start();
                await Eventually.True(() => callbacks.UpdatesEntered > 0, $"slow client {c} is reading its snapshot");

                // Churn: more entries than the feed lets a new client replay after the last snapshot (1,024 here), so the
                // next client gets a new snapshot, while the log still holds all of it (no client is behind).
                long taken = relay.Feed().Sequence;
                for (int i = 0; c < 2 && relay.Feed().Sequence <= taken + 1100; i += 25)
                {
                    i.Should().BeLessThan(100_000, "writes must reach the relay");
                    long before = relay.Feed().Sequence;
                    for (int w = i; w < i + 25; w++)
                    {
                        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 10_000 + (w % 10))), $"c{c}w{w}"));
                    }

                    await Eventually.True(() => relay.Feed().Sequence > before, "the writes reach the relay");
                }
            }

            relay.Feed().SnapshotsEncoded.Should().Be(3, "each slow client joined after the last snapshot had aged");

            // The third client's snapshot is the latest; the first two are superseded, and only one of them may stay.
            await Eventually.True(
                () => relay.Feed().PinnedSnapshots <= 2,
                $"at most the latest snapshot and 1 superseded one are pinned ({relay.Feed().PinnedSnapshots} pinned, {relay.Feed().SnapshotsEncoded} encoded)",
                TimeSpan.FromSeconds(20));
        }
        finally
        {
            foreach (ManualResetEventSlim gate in gates)
            {
                gate.Set();
            }
        }

        try
        {
            for (int c = 0; c < clients.Count; c++)
            {
                await Relays.ConvergedAsync(clients[c].Callbacks, store, $"slow client {c}", TimeSpan.FromSeconds(60));
                clients[c].Callbacks.Violations.Should().BeEmpty();
            }

            cutOffs.Count("superseded").Should().Be(1, "the reader of the oldest snapshot, and only it, was cut off (and came back for the latest, which the others still read)");
            relay.Feed().PinnedSnapshots.Should().Be(0, "no client reads a snapshot any more");
        }
        finally
        {
            foreach ((RelaySyncer syncer, _) in clients)
            {
                await syncer.DisposeAsync();
            }

            foreach (ManualResetEventSlim gate in gates)
            {
                gate.Dispose();
            }
        }
    }
}
