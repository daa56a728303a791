using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>Relays that die, restart empty, or face a client that stops reading: clients converge with nothing stale.</summary>
public sealed class RelayFailoverTests
{
    [Fact]
    public async Task KillRelayDuringWrites_ClientsFailOverToTheOtherRelay_AndConverge()
    {
        await using var store = new InMemoryBackend();
        for (int i = 0; i < 50; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), $"v{i}"));
        }

        TestRelay first = await TestRelay.StartAsync(Relays.Feed(store));
        await using TestRelay second = await TestRelay.StartAsync(Relays.Feed(store));
        var clients = new List<(RelaySyncer Syncer, RecordingCallbacks Callbacks)>();
        try
        {
            for (int i = 0; i < 6; i++)
            {
                var callbacks = new RecordingCallbacks();
                var syncer = new RelaySyncer(Relays.Client(first.Address, second.Address), callbacks);
                syncer.Start();
                clients.Add((syncer, callbacks));
            }

            foreach ((_, RecordingCallbacks callbacks) in clients)
            {
                await Relays.ConvergedAsync(callbacks, store, "client before the kill");
            }

            await Eventually.True(() => clients.All(c => c.Syncer.ConnectedEndpoint is not null), "every client is connected");

            // Kill whichever relay serves more clients; the others keep their connection.
            bool killFirst = clients.Count(c => c.Syncer.ConnectedEndpoint == first.Address) >= 3;
            (TestRelay victim, TestRelay survivor) = killFirst ? (first, second) : (second, first);
            var moved = clients.Where(c => c.Syncer.ConnectedEndpoint == victim.Address).ToList();
            moved.Should().NotBeEmpty();

            var random = new Random(7);
            using var writing = new CancellationTokenSource();
            Task writer = Task.Run(async () =>
            {
                int n = 0;
                while (!writing.IsCancellationRequested)
                {
                    string key = Relays.Key(random.Next(2), random.Next(80));
                    if (random.Next(4) == 0)
                    {
                        try
                        {
                            await store.DeleteAsync(new PathKey(key));
                        }
                        catch (ResourceNotFoundException)
                        {
                        }
                    }
                    else
                    {
                        await store.ApplyAsync(new KVPair(new PathKey(key), $"w{n++}"));
                    }

                    await Task.Yield();
                }
            });

            await Eventually.True(() => store.Revision > 200, "writes are flowing");
            await victim.KillAsync();
            await Eventually.True(() => moved.All(c => c.Syncer.ConnectedEndpoint == survivor.Address), "the victim's clients reach the survivor");
            await Eventually.True(() => store.Revision > 400, "writes go on after the kill");
            await writing.CancelAsync();
            await writer;

            foreach ((RelaySyncer syncer, RecordingCallbacks callbacks) in clients)
            {
                await Relays.ConvergedAsync(callbacks, store, "client after the failover");
                callbacks.Violations.Should().BeEmpty();
            }

            moved.Should().OnlyContain(c => c.Syncer.Resyncs + c.Syncer.Resumes >= 2, "a client that failed over took a new snapshot or was continued from where it was");
        }
        finally
        {
            foreach ((RelaySyncer syncer, _) in clients)
            {
                await syncer.DisposeAsync();
            }

            await first.DisposeAsync();
        }
    }

    [Fact]
    public async Task RestartedRelayWithAnEmptyLog_ClientResyncs_AndKeysDeletedMeanwhileGo()
    {
        await using var store = new InMemoryBackend();
        for (int i = 0; i < 40; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), $"v{i}"));
        }

        TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        int port = relay.Port;
        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(relay.Address), callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client before the restart");
        await relay.KillAsync();

        // While no relay runs, keys go and come and change: the new relay knows nothing of what the client holds.
        for (int i = 0; i < 40; i += 3)
        {
            await store.DeleteAsync(new PathKey(Relays.Key(i % 2, i)));
        }

        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 500)), "new"));
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(1, 1)), "changed"));
        await using TestRelay restarted = await TestRelay.StartAsync(Relays.Feed(store), port);

        await Relays.ConvergedAsync(callbacks, store, "client after the restart");
        callbacks.Violations.Should().BeEmpty();
        callbacks.Picture.Should().NotContainKey(Relays.Key(0, 0), "a key deleted while the relay was down must not survive the resync");
        syncer.Resyncs.Should().BeGreaterThanOrEqualTo(2);
        callbacks.AllUpdates.Where(u => u.UpdateType == UpdateType.Deleted).Select(u => u.KVPair.Key.DefaultPath)
            .Should().Contain(Relays.Key(0, 0));
    }

    [Fact]
    public async Task FrozenClient_IsCutOff_WithTheLogBounded_AndConvergesAfterItThaws()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 0)), "start"));
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store, options =>
        {
            options.MaxLogEntries = 256;
            options.PingInterval = TimeSpan.FromMilliseconds(100);
            options.PingTimeout = TimeSpan.FromMilliseconds(800);
            options.WriteTimeout = TimeSpan.FromMilliseconds(800);
        }));
        var healthy = new RecordingCallbacks();
        var frozen = new RecordingCallbacks();
        await using var healthySyncer = new RelaySyncer(Relays.Client(relay.Address), healthy);
        await using var frozenSyncer = new RelaySyncer(Relays.Client(relay.Address), frozen);
        healthySyncer.Start();
        frozenSyncer.Start();
        await Relays.ConvergedAsync(healthy, store, "healthy client");
        await Relays.ConvergedAsync(frozen, store, "frozen client before it freezes");
        await Eventually.True(() => relay.Host.Connections.Count == 2, "both clients are connected");

        using var gate = new ManualResetEventSlim(false);
        frozen.UpdatesGate = gate;
        int entered = frozen.UpdatesEntered;
        for (int i = 0; i < 500; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i % 100)), $"burst-{i}"));
        }

        await Eventually.True(() => frozen.UpdatesEntered > entered, "the frozen client is stuck in a callback");
        await Relays.ConvergedAsync(healthy, store, "healthy client during the freeze");
        await Eventually.True(() => relay.Host.Connections.Count == 1, "the relay drops the frozen client");
        relay.Feed().LogEntries.Should().BeLessThanOrEqualTo(256, "the log is bounded whatever the clients do");

        gate.Set();

        // It first reads what the transport had buffered before the cut, then hears of the cut and resyncs.
        await Eventually.True(() => frozenSyncer.Resyncs + frozenSyncer.Resumes >= 2, "the cut-off client reconnects and resyncs, or resumes when the log still holds what follows its position");
        await Relays.ConvergedAsync(frozen, store, "frozen client after it thaws");
        frozen.Violations.Should().BeEmpty();
        healthy.Violations.Should().BeEmpty();
    }
}
