using System.Diagnostics.Metrics;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// The relay rows of docs/metrics.md against the instruments a running relay server and a relay client publish (the
/// other rows are checked by the hosting tests).
/// </summary>
public sealed class RelayMetricsCatalogTests
{
    [Fact]
    public async Task Instruments_OfARelayAndARelayClient_AreExactlyTheDocumentedRelayRows()
    {
        // Instruments are published as the relay starts, before its meter factory can be asked for: keep them all,
        // and pick this relay's (and this client's, which uses the same factory) by their meter's scope afterwards.
        var instruments = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                lock (instruments)
                {
                    instruments.Add(instrument);
                }
            },
        };
        listener.Start();

        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "v"));
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        var callbacks = new RecordingCallbacks();
        RelaySyncerOptions options = Relays.Client(relay.Address);
        options.MeterFactory = relay.Services.GetRequiredService<IMeterFactory>();
        await using var syncer = new RelaySyncer(options, callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client");

        lock (instruments)
        {
            object scope = relay.Services.GetRequiredService<IMeterFactory>();
            Instrument[] ours = [.. instruments.Where(i => i.Meter.Scope == scope && i.Name.StartsWith("watchersync.relay.", StringComparison.Ordinal))];
            ours.Select(i => i.Meter.Name).Distinct().Should().Equal([WatcherSyncMeter.Name], "the relay publishes on the one WatcherSync meter");
            ours.Select(i => (i.Name, DocumentedTable.Kind(i), i.Unit ?? string.Empty)).Distinct().Order().Should().Equal(
                DocumentedTable.Rows("docs/metrics.md", DocumentedTable.RelayInstrumentName()).Select(r => (r[0], r[1], r[2])).Order(),
                "docs/metrics.md lists every relay instrument with its type and unit (update the Metrics table when one changes)");
        }
    }
}
