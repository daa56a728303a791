using System.Diagnostics.Metrics;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using WatcherSync.Etcd;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Hosting.Tests.Diagnostics;

public sealed class MetricsCatalogTests
{
    [Fact]
    public async Task Instruments_PublishedThroughTheHostsMeterFactory_AreExactlyTheDocumentedTable()
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddWatcherSync().AddPrefix("/a/").AddBufferedSink<RecordingCallbacks>();
        await using ServiceProvider provider = services.BuildServiceProvider();
        IMeterFactory factory = provider.GetRequiredService<IMeterFactory>();
        var published = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Scope == factory)
                {
                    lock (published)
                    {
                        published.Add(instrument);
                    }
                }
            },
        };
        listener.Start();

        // A syncer creates its instruments when it starts (one never started publishes nothing), and the hosted
        // pipeline makes each sink's buffer when it starts.
        WatcherSyncPipeline pipeline = provider.GetRequiredService<WatcherSyncPipeline>();
        pipeline.Start();
        await pipeline.StopAsync();
        await using var etcd = new EtcdBackendClient(new EtcdClientOptions { Endpoints = { "http://127.0.0.1:1" }, MeterFactory = factory });

        published.Should().OnlyContain(i => i.Meter.Name == WatcherSyncMeter.Name, "every component publishes on the one WatcherSync meter");
        published.Select(i => (i.Name, DocumentedTable.Kind(i), i.Unit ?? string.Empty)).Order()
            .Should().Equal(DocumentedTable.Rows("docs/metrics.md", DocumentedTable.InstrumentName()).Select(r => (r[0], r[1], r[2])).Order(),
                "docs/metrics.md lists every instrument with its type and unit (update the Metrics table when an instrument changes)");
    }
}
