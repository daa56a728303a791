using System.Globalization;
using CsCheck;
using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// A small fleet on loopback as a CsCheck property: two relays over one store, each through its own
/// <see cref="FaultyBackend"/>, and a dozen clients that know both. Generated operations: writes and deletes (some
/// values large), relay kills and restarts on the same address, upstreams that go down and come back. Checks: no
/// client ever reports deleted a key the store never deleted; no client reports a key at a lower revision than it
/// already reported; after quiescence every client equals the store. A failure prints a seed (CsCheck_Seed=…).
/// Cases: WATCHERSYNC_SOAK=1 runs many more.
/// </summary>
public sealed class RelayOperationsPropertyTests(ITestOutputHelper output)
{
    private const int Clients = 12;
    private const int DeletableKeys = 8;
    private const int Keys = 24;

    private static readonly Gen<Op> GenOp = Gen.Frequency(
        (60, Gen.Select(Gen.Int[0, Keys - 1], Gen.Int[0, 9], (k, big) => new Op(OpKind.Write, k, big == 0))),
        (15, Gen.Int[0, DeletableKeys - 1].Select(k => new Op(OpKind.Delete, k, false))),
        (10, Gen.Int[0, 1].Select(r => new Op(OpKind.RestartRelay, r, false))),
        (15, Gen.Int[0, 1].Select(r => new Op(OpKind.ToggleUpstream, r, false))));

    private static readonly Gen<Op[]> GenCase = GenOp.Array[5, 40];

    [Fact]
    public async Task Fleet_UnderWritesRestartsAndUpstreamFailures_NeverDeletesALiveKeyNorMovesBackwards_AndConverges()
    {
        int iterations = Environment.GetEnvironmentVariable("WATCHERSYNC_SOAK") is { Length: > 0 } ? 200 : 12;
        await GenCase.SampleAsync(RunAsync, iter: iterations, threads: 1, print: ops => string.Join(" ", ops.Select(o => o.ToString())));
        output.WriteLine($"{iterations} cases");
    }

    private static async Task RunAsync(Op[] ops)
    {
        await using var store = new InMemoryBackend();
        for (int k = 0; k < Keys; k++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Key(k)), "initial"));
        }

        var upstreams = new[] { new FaultyBackend(store, 1) { Faults = false }, new FaultyBackend(store, 2) { Faults = false } };
        var relays = new TestRelay?[2];
        var ports = new int[2];
        for (int r = 0; r < 2; r++)
        {
            relays[r] = await TestRelay.StartAsync(Relays.Feed(upstreams[r]));
            ports[r] = relays[r]!.Port;
        }

        var clients = new List<(RelaySyncer Syncer, RecordingCallbacks Callbacks)>();
        try
        {
            for (int c = 0; c < Clients; c++)
            {
                var callbacks = new RecordingCallbacks();
                var syncer = new RelaySyncer(Relays.Client(relays[0]!.Address, relays[1]!.Address), callbacks);
                syncer.Start();
                clients.Add((syncer, callbacks));
            }

            // A fleet in steady state: every relay has encoded its snapshot, which the operations then leave behind.
            foreach ((_, RecordingCallbacks callbacks) in clients)
            {
                await Relays.ConvergedAsync(callbacks, store, "client before the operations");
            }

            int n = 0;
            foreach (Op op in ops)
            {
                switch (op.Kind)
                {
                    case OpKind.Write:
                        await store.ApplyAsync(new KVPair(new PathKey(Key(op.Target)), op.Large ? new string('L', 96 * 1024) + n++ : $"w{n++}"));
                        break;
                    case OpKind.Delete:
                        try
                        {
                            await store.DeleteAsync(new PathKey(Key(op.Target)));
                        }
                        catch (ResourceNotFoundException)
                        {
                        }

                        break;
                    case OpKind.RestartRelay:
                        await relays[op.Target]!.KillAsync();
                        relays[op.Target] = await TestRelay.StartAsync(Relays.Feed(upstreams[op.Target]), ports[op.Target]);
                        break;
                    case OpKind.ToggleUpstream:
                        upstreams[op.Target].Down = !upstreams[op.Target].Down;
                        break;
                }

                // Let the fleet move between operations, so that they overlap with resyncs rather than all land first.
                await Task.Yield();
            }

            foreach (FaultyBackend upstream in upstreams)
            {
                upstream.Down = false;
            }

            foreach ((RelaySyncer syncer, RecordingCallbacks callbacks) in clients)
            {
                await Relays.ConvergedAsync(callbacks, store, "client after quiescence", TimeSpan.FromSeconds(40));
                Check(callbacks);
            }
        }
        finally
        {
            foreach ((RelaySyncer syncer, _) in clients)
            {
                await syncer.DisposeAsync();
            }

            foreach (TestRelay? relay in relays)
            {
                if (relay is not null)
                {
                    await relay.DisposeAsync();
                }
            }
        }
    }

    /// <summary>No delete of a key the store never deleted; per key, revisions reported never go down.</summary>
    private static void Check(RecordingCallbacks callbacks)
    {
        callbacks.Violations.Should().BeEmpty();
        var revisions = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (Update update in callbacks.AllUpdates)
        {
            string key = update.KVPair.Key.DefaultPath;
            if (update.UpdateType == UpdateType.Deleted)
            {
                int index = int.Parse(key[^4..], CultureInfo.InvariantCulture);
                index.Should().BeLessThan(DeletableKeys, $"{key} was never deleted from the store, yet a client reported it deleted");
                continue;
            }

            long revision = long.Parse(update.KVPair.Revision!, CultureInfo.InvariantCulture);
            if (revisions.TryGetValue(key, out long last))
            {
                revision.Should().BeGreaterThanOrEqualTo(last, $"{key} moved backwards from revision {last}");
            }

            revisions[key] = revision;
        }
    }

    private static string Key(int k) => Relays.Key(k % 2, k);

    private enum OpKind
    {
        Write,
        Delete,
        RestartRelay,
        ToggleUpstream,
    }

    private sealed record Op(OpKind Kind, int Target, bool Large)
    {
        public override string ToString() => Kind switch
        {
            OpKind.Write => Large ? $"W{Target}+" : $"W{Target}",
            OpKind.Delete => $"D{Target}",
            OpKind.RestartRelay => $"R{Target}",
            _ => $"U{Target}",
        };
    }
}
