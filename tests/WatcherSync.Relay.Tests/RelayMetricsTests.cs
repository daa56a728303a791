using System.Diagnostics.Metrics;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>The relay's instruments, read through a MeterListener scoped to one relay's meter factory.</summary>
public sealed class RelayMetricsTests
{
    [Fact]
    public async Task Metrics_CountClientsSnapshotsAndBytes_AndCutOffs()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "v"));
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        object scope = relay.Services.GetRequiredService<IMeterFactory>();
        var totals = new Dictionary<string, long>(StringComparer.Ordinal);
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == WatcherSyncMeter.Name && instrument.Meter.Scope == scope && instrument.Name.StartsWith("watchersync.relay.", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            lock (totals)
            {
                // Observable instruments report their current value; counters report increments.
                totals[instrument.Name] = instrument is ObservableInstrument<long> ? value : totals.GetValueOrDefault(instrument.Name) + value;
            }
        });
        listener.Start();

        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(relay.Address), callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client");
        await Eventually.True(() => relay.Host.Connections.Count == 1, "the client is counted");
        await RawCalls.EndingAsync(relay.Address, [RawCalls.Hello("nope")]);
        listener.RecordObservableInstruments();

        lock (totals)
        {
            totals.Should().Contain("watchersync.relay.clients", 1);
            totals["watchersync.relay.snapshots_sent"].Should().BeGreaterThanOrEqualTo(1);
            totals["watchersync.relay.snapshots_encoded"].Should().Be(1);
            totals["watchersync.relay.bytes_sent"].Should().BePositive();
            totals["watchersync.relay.clients_refused"].Should().Be(1);
            totals.Should().ContainKey("watchersync.relay.lag");
        }
    }
}
