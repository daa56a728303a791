using System.Globalization;
using CsCheck;
using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Relay.Server;
using WatcherSync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// A small fleet on loopback as a CsCheck property: two relays over one store, each through its own
/// <see cref="FaultyBackend"/>, and a dozen clients that know both. The relays keep a short log (the minimum of 256
/// entries, 1 MiB), so that it wraps during a case. Generated operations: writes and deletes (some values large),
/// bursts of writes (log wrap), relay kills and restarts on the same address, upstreams that go down and come back or
/// lag for a few operations, datastore resets (a restore with revisions starting over, other values at the same
/// revisions), and clients that join during the case and read their first snapshot slowly (a snapshot in progress
/// while the log wraps).
/// <para>
/// Checks: no client ever reports deleted a key the store never deleted (a client keeps its picture until it holds a
/// complete picture in sync, as a direct syncer does); while a client says InSync no key moves backwards; after
/// quiescence every client equals the store. "Backwards" is judged by the order in which the test wrote the values
/// (every value written is unique), not by raw revisions, which a datastore reset legitimately moves back. A client
/// held part-way through its snapshot is at the snapshot's sequence on its relay (not cut off as behind meanwhile).
/// A failure prints a seed (CsCheck_Seed=…). Cases: WATCHERSYNC_SOAK=1 runs many more.
/// </para>
/// </summary>
public sealed class RelayOperationsPropertyTests(ITestOutputHelper output)
{
    private const int InitialClients = 12;
    private const int DeletableKeys = 8;
    private const int Keys = 24;
    private const int BurstWrites = 300;
    private const int LargeValueBytes = 96 * 1024;

    private static readonly Gen<Op> GenOp = Gen.Frequency(
        (50, Gen.Select(Gen.Int[0, Keys - 1], Gen.Int[0, 4], (k, big) => new Op(OpKind.Write, k, big == 0))),
        (12, Gen.Int[0, DeletableKeys - 1].Select(k => new Op(OpKind.Delete, k, false))),
        (8, Gen.Int[0, 1].Select(r => new Op(OpKind.RestartRelay, r, false))),
        (8, Gen.Int[0, 1].Select(r => new Op(OpKind.ToggleUpstream, r, false))),
        (8, Gen.Select(Gen.Int[0, 1], Gen.Int[1, 4], (r, ops) => new Op(OpKind.Lag, r, false, ops))),
        (3, Gen.Int[0, DeletableKeys - 1].Select(k => new Op(OpKind.Reset, k, false))),
        (4, Gen.Int[0, Keys - 1].Select(k => new Op(OpKind.Burst, k, false))),
        (5, Gen.Select(Gen.Int[0, 1], Gen.Int[1, 6], (r, ops) => new Op(OpKind.Join, r, false, ops))),
        (3, Gen.Int[1, 3].Select(ops => new Op(OpKind.RestartAllDown, 0, false, ops))));

    private static readonly Gen<Op[]> GenCase = GenOp.Array[5, 40];

    [Fact]
    public async Task Fleet_UnderWritesRestartsLagsResetsAndLogWrap_NeverDeletesALiveKeyNorMovesBackwards_AndConverges()
    {
        int iterations = Environment.GetEnvironmentVariable("WATCHERSYNC_SOAK") is { Length: > 0 } ? 200 : 12;
        await GenCase.SampleAsync(RunAsync, iter: iterations, threads: 1, print: ops => string.Join(" ", ops.Select(o => o.ToString())));
        output.WriteLine($"{iterations} cases");
    }

    private static async Task RunAsync(Op[] ops)
    {
        await using var fleet = new Fleet();
        await fleet.StartAsync();

        // A fleet in steady state: every relay has encoded its snapshot, which the operations then leave behind, and
        // has run long enough for its log to have dropped its first entries.
        foreach (FleetClient client in fleet.Clients)
        {
            await Relays.ConvergedAsync(client.Callbacks, fleet.Store, "client before the operations");
        }

        await fleet.WrapLogsAsync();

        foreach (Op op in ops)
        {
            fleet.Tick();
            await fleet.RunAsync(op);

            // Let the fleet move between operations, so that they overlap with resyncs rather than all land first.
            await Task.Yield();
        }

        fleet.Quiesce();
        for (int c = 0; c < fleet.Clients.Count; c++)
        {
            FleetClient client = fleet.Clients[c];
            try
            {
                await Relays.ConvergedAsync(client.Callbacks, fleet.Store, $"client {c} after quiescence", TimeSpan.FromSeconds(60));
            }
            catch (TimeoutException ex)
            {
                throw new TimeoutException($"{ex.Message}; {await fleet.DescribeAsync(client)}", ex);
            }

            Check(client.Callbacks, $"client {c}");
        }
    }

    /// <summary>
    /// Replays a client's calls: no delete of a key the store never deleted, whatever the status; while InSync (at
    /// each announcement and each batch after it), no key holds a value written before the one it held at an earlier
    /// InSync point.
    /// </summary>
    private static void Check(RecordingCallbacks callbacks, string who)
    {
        callbacks.Violations.Should().BeEmpty(who);
        var held = new Dictionary<string, long>(StringComparer.Ordinal);
        var floor = new Dictionary<string, long>(StringComparer.Ordinal);
        bool inSync = false;
        IReadOnlyList<object> calls = callbacks.Calls;
        for (int i = 0; i < calls.Count; i++)
        {
            switch (calls[i])
            {
                case SyncStatus status:
                    inSync = status == SyncStatus.InSync;
                    break;
                case Update[] updates:
                    foreach (Update update in updates)
                    {
                        string key = update.KVPair.Key.DefaultPath;
                        if (update.UpdateType == UpdateType.Deleted)
                        {
                            int index = int.Parse(key[^4..], CultureInfo.InvariantCulture);
                            index.Should().BeLessThan(DeletableKeys, $"{key} was never deleted from the store, yet {who} reported it deleted (call {i}, the status was {(inSync ? "InSync" : "not InSync")})");
                            held.Remove(key);
                        }
                        else
                        {
                            held[key] = WriteOrder(Relays.Text(update.KVPair.Value));
                        }
                    }

                    break;
                default:
                    continue;
            }

            if (!inSync)
            {
                continue;
            }

            foreach ((string key, long order) in held)
            {
                if (floor.TryGetValue(key, out long last))
                {
                    order.Should().BeGreaterThanOrEqualTo(last, $"{who} said InSync holding {key} at the value written {order}th, after it had held the value written {last}th (call {i})");
                }

                floor[key] = Math.Max(order, last);
            }
        }
    }

    /// <summary>The position of a value in the order the test wrote them: 0 for the initial values, else the number it ends with.</summary>
    private static long WriteOrder(string value) =>
        value == Initial ? 0 : long.Parse(value.AsSpan(value.IndexOfAny(Digits)), CultureInfo.InvariantCulture);

    private const string Initial = "initial";

    private static readonly char[] Digits = "0123456789".ToCharArray();

    private static string Key(int k) => Relays.Key(k % 2, k);

    private static bool Deletable(int k) => k < DeletableKeys;

    private enum OpKind
    {
        Write,
        Delete,
        RestartRelay,
        ToggleUpstream,
        Lag,
        Reset,
        Burst,
        Join,
        RestartAllDown,
    }

    /// <param name="Kind">What to do.</param>
    /// <param name="Target">The key, or the relay.</param>
    /// <param name="Large">Whether a write's value is large.</param>
    /// <param name="Ops">For a lag or a slow join: for how many operations.</param>
    private sealed record Op(OpKind Kind, int Target, bool Large, int Ops = 0)
    {
        public override string ToString() => Kind switch
        {
            OpKind.Write => Large ? $"W{Target}+" : $"W{Target}",
            OpKind.Delete => $"D{Target}",
            OpKind.RestartRelay => $"R{Target}",
            OpKind.ToggleUpstream => $"U{Target}",
            OpKind.Lag => $"L{Target}x{Ops}",
            OpKind.Reset => $"X{Target}",
            OpKind.Burst => $"B{Target}",
            OpKind.RestartAllDown => $"K{Ops}",
            _ => $"J{Target}x{Ops}",
        };
    }

    /// <summary>A client of the fleet, and the gate that holds its callbacks (a slow reader) until it opens.</summary>
    private sealed record FleetClient(RelaySyncer Syncer, RecordingCallbacks Callbacks, ManualResetEventSlim Gate)
    {
        /// <summary>Gets or sets how many more operations the gate stays shut (0: open).</summary>
        public int ShutFor { get; set; }
    }

    /// <summary>
    /// The store, the two relays and their upstreams, and the clients. <see cref="Store"/> is the datastore the relays'
    /// upstreams read (replaced by a reset); every value written into it is unique and ends with its write order
    /// (<see cref="_written"/>); <c>_lagFor[r]</c> is how many more operations relay r's upstream lags (0: not lagging).
    /// </summary>
    private sealed class Fleet : IAsyncDisposable
    {
        private readonly List<InMemoryBackend> _stores = [];
        private readonly FaultyBackend[] _upstreams = new FaultyBackend[2];
        private readonly TestRelay?[] _relays = new TestRelay?[2];
        private readonly int[] _ports = new int[2];
        private readonly int[] _lagFor = new int[2];
        private readonly int[] _downFor = new int[2];
        private long _written;

        public InMemoryBackend Store => _stores[^1];

        public List<FleetClient> Clients { get; } = [];

        public async Task StartAsync()
        {
            _stores.Add(new InMemoryBackend());
            for (int k = 0; k < Keys; k++)
            {
                // A third of the keys start large, so that a snapshot (4 MiB) is long enough to be read slowly.
                await Store.ApplyAsync(new KVPair(new PathKey(Key(k)), k >= Keys - (Keys / 3) ? new string('L', 512 * 1024) + "0" : Initial));
            }

            for (int r = 0; r < 2; r++)
            {
                _upstreams[r] = new FaultyBackend(Store, r + 1) { Faults = false };
                _relays[r] = await StartRelayAsync(r, 0);
                _ports[r] = _relays[r]!.Port;
            }

            for (int c = 0; c < InitialClients; c++)
            {
                Join(0);
            }
        }

        /// <summary>Writes large values until both relays' logs have dropped their first entry (a fleet that has run a while).</summary>
        public async Task WrapLogsAsync()
        {
            for (int i = 0; _relays.Any(r => r!.Feed().FirstSequence <= 1); i++)
            {
                i.Should().BeLessThan(100, "large writes must wrap a log of 1 MiB");
                long n = ++_written;
                long[] before = [.. _relays.Select(r => r!.Feed().Sequence)];
                await Store.ApplyAsync(new KVPair(new PathKey(Key((int)(n % DeletableKeys))), new string('L', LargeValueBytes) + n));
                await Eventually.True(() => _relays.Select((r, i) => r!.Feed().Sequence > before[i]).All(b => b), "both relays have the write", TimeSpan.FromSeconds(60));
            }
        }

        /// <summary>Counts one operation down for the lags and the shut gates.</summary>
        public void Tick()
        {
            for (int r = 0; r < 2; r++)
            {
                if (_lagFor[r] > 0 && --_lagFor[r] == 0)
                {
                    _upstreams[r].Lagging = false;
                }

                if (_downFor[r] > 0 && --_downFor[r] == 0)
                {
                    _upstreams[r].Down = false;
                }
            }

            foreach (FleetClient client in Clients.Where(c => c.ShutFor > 0))
            {
                if (--client.ShutFor == 0)
                {
                    client.Gate.Set();
                }
            }
        }

        public async Task RunAsync(Op op)
        {
            switch (op.Kind)
            {
                case OpKind.Write:
                    long n = ++_written;
                    await Store.ApplyAsync(new KVPair(new PathKey(Key(op.Target)), op.Large ? new string('L', LargeValueBytes) + n : $"w{n}"));
                    break;
                case OpKind.Delete:
                    try
                    {
                        await Store.DeleteAsync(new PathKey(Key(op.Target)));
                    }
                    catch (ResourceNotFoundException)
                    {
                    }

                    break;
                case OpKind.RestartRelay:
                    await _relays[op.Target]!.KillAsync();
                    _relays[op.Target] = await StartRelayAsync(op.Target, _ports[op.Target]);
                    break;
                case OpKind.ToggleUpstream:
                    _upstreams[op.Target].Down = !_upstreams[op.Target].Down;
                    break;
                case OpKind.Lag:
                    _upstreams[op.Target].Lagging = true;
                    _lagFor[op.Target] = Math.Max(_lagFor[op.Target], op.Ops);
                    break;
                case OpKind.Reset:
                    await ResetAsync(op.Target);
                    break;
                case OpKind.Burst:
                    for (int i = 0; i < BurstWrites; i++)
                    {
                        await Store.ApplyAsync(new KVPair(new PathKey(Key((op.Target + i) % Keys)), $"b{++_written}"));
                    }

                    break;
                case OpKind.Join:
                    long[] firsts = [.. _relays.Select(r => r!.Feed().FirstSequence)];
                    string name = $"client-{Clients.Count}";
                    RecordingCallbacks joined = Join(op.Ops);

                    // The operations that follow run while it is part-way through its first snapshot (when a relay can
                    // list: one that cannot sends nothing yet).
                    if (_upstreams.Any(u => u.Down))
                    {
                        break;
                    }

                    await Eventually.True(() => joined.UpdatesEntered > 0, "the joining client has begun its snapshot", TimeSpan.FromSeconds(60));

                    // A client taking a snapshot is at the snapshot's sequence (at least the log's first when it came,
                    // less one): it is behind only once the log no longer holds what follows it.
                    for (int r = 0; r < 2; r++)
                    {
                        foreach (RelayConnection connection in _relays[r]!.Host.Connections.Open.Where(c => c.ClientName == name))
                        {
                            connection.Cursor.Should().BeGreaterThanOrEqualTo(firsts[r] - 1, $"{name} is reading a snapshot of relay {r}, whose log began at {firsts[r]} when it came");
                        }
                    }
                    break;
                case OpKind.RestartAllDown:
                    // Both relays restart during a datastore outage: every client reconnects to a relay that has not
                    // finished its first list.
                    for (int r = 0; r < 2; r++)
                    {
                        await _relays[r]!.KillAsync();
                        _upstreams[r].Down = true;
                        _downFor[r] = Math.Max(_downFor[r], op.Ops);
                        _relays[r] = await StartRelayAsync(r, _ports[r]);
                    }

                    break;
            }
        }

        /// <summary>What a client that did not converge holds, against the store and the relays.</summary>
        public async Task<string> DescribeAsync(FleetClient client)
        {
            Dictionary<string, string> store = await Relays.StoreAsync(Store);
            Dictionary<string, string> picture = Relays.AsText(client.Callbacks.Picture);
            string Short(string? v) => v is null ? "-" : v.Length > 12 ? $"L..{v.TrimStart('L')}" : v;
            IEnumerable<string> diff = store.Keys.Union(picture.Keys).Order(StringComparer.Ordinal)
                .Where(k => store.GetValueOrDefault(k) != picture.GetValueOrDefault(k))
                .Select(k => $"{k[^5..]}: store {Short(store.GetValueOrDefault(k))}, client {Short(picture.GetValueOrDefault(k))}");
            string relays = string.Join(", ", _relays.Select((r, i) => r is null ? $"relay {i}: none" : $"relay {i}: {r.Feed().Status} epoch {r.Feed().DatastoreEpoch} keys {r.Feed().KeyCount}"));
            IEnumerable<string> recent = client.Callbacks.Calls.TakeLast(6).Select(call => call switch
            {
                Update[] updates => $"{updates.Length} updates",
                RecordingCallbacks.SyncFailedCall failed => $"SyncFailed({failed.Error.Message})",
                _ => call.ToString() ?? string.Empty,
            });
            return $"client status {client.Callbacks.LastStatus}, connected to {client.Syncer.ConnectedEndpoint?.ToString() ?? "none"}; differs at [{string.Join("; ", diff)}]; {relays}; last calls: {string.Join(" | ", recent)}";
        }

        /// <summary>Upstreams up and flowing, every gate open: the fleet may now converge.</summary>
        public void Quiesce()
        {
            for (int r = 0; r < 2; r++)
            {
                _lagFor[r] = 0;
                _downFor[r] = 0;
                _upstreams[r].Lagging = false;
                _upstreams[r].Down = false;
            }

            foreach (FleetClient client in Clients)
            {
                client.ShutFor = 0;
                client.Gate.Set();
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (FleetClient client in Clients)
            {
                client.Gate.Set();
                await client.Syncer.DisposeAsync();
                client.Gate.Dispose();
            }

            foreach (TestRelay? relay in _relays)
            {
                if (relay is not null)
                {
                    await relay.DisposeAsync();
                }
            }

            foreach (InMemoryBackend store in _stores)
            {
                await store.DisposeAsync();
            }
        }

        /// <summary>
        /// A restore from a backup: a new store whose revisions start over, holding every key that is never deleted
        /// and the deletable keys from <paramref name="from"/> on, each with a new value (so the same revisions now name
        /// other values); both upstreams switch to it at once.
        /// </summary>
        private async Task ResetAsync(int from)
        {
            var restored = new InMemoryBackend();
            for (int k = 0; k < Keys; k++)
            {
                if (!Deletable(k) || k >= from)
                {
                    await restored.ApplyAsync(new KVPair(new PathKey(Key(k)), $"r{++_written}"));
                }
            }

            _stores.Add(restored);
            foreach (FaultyBackend upstream in _upstreams)
            {
                upstream.ResetTo(restored);
            }
        }

        /// <summary>Starts a client that knows both relays; its callbacks are held for <paramref name="shutFor"/> operations (a slow first snapshot).</summary>
        private RecordingCallbacks Join(int shutFor)
        {
            var callbacks = new RecordingCallbacks();
            var gate = new ManualResetEventSlim(shutFor == 0);
            callbacks.UpdatesGate = gate;
            RelaySyncerOptions options = Relays.Client(new Uri($"http://127.0.0.1:{_ports[0]}"), new Uri($"http://127.0.0.1:{_ports[1]}"));
            options.ClientName = $"client-{Clients.Count}";

            // A client takes a relay behind what it holds only once every relay has been behind this long (after a
            // reset); longer than any lag the operations make.
            options.DisconnectedTimeout = TimeSpan.FromSeconds(10);
            var syncer = new RelaySyncer(options, callbacks);
            syncer.Start();
            Clients.Add(new FleetClient(syncer, callbacks, gate) { ShutFor = shutFor });
            return callbacks;
        }

        private Task<TestRelay> StartRelayAsync(int r, int port) => TestRelay.StartAsync(
            Relays.Feed(_upstreams[r], options =>
            {
                // A short log, so that bursts and large values wrap it during a case.
                options.MaxLogEntries = 256;
                options.MaxLogBytes = 1024 * 1024;

                // The watchdog ticks at a quarter of the shortest timeout: every half second, so that it looks at a
                // client part-way through a snapshot read slowly.
                options.HelloTimeout = TimeSpan.FromSeconds(2);
            }),
            port);
    }
}
