using System.Diagnostics.Metrics;
using FluentAssertions;
using WatcherSync.Etcd.Diagnostics;
using Xunit;

namespace WatcherSync.Etcd.Tests.Diagnostics;

public sealed class EtcdMetricsTests
{
    [Fact]
    public void RequestDuration_AdvisesBucketsThatFitSeconds()
    {
        // Without advice, exporters use their default buckets (OpenTelemetry's go to 10,000: meant for milliseconds),
        // and every request of a few milliseconds lands in the first bucket.
        Histogram<double>? duration = null;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Name == "watchersync.etcd.request.duration")
                {
                    duration = (Histogram<double>)instrument;
                }
            },
        };
        listener.Start();
        using var metrics = new EtcdMetrics(meterFactory: null);

        duration.Should().NotBeNull();
        IReadOnlyList<double>? buckets = duration!.Advice?.HistogramBucketBoundaries;
        buckets.Should().NotBeNull();
        buckets!.Should().BeInAscendingOrder();
        buckets![0].Should().BeLessThanOrEqualTo(0.005, "a request on loopback takes about a millisecond");
        buckets[^1].Should().BeInRange(5, 60, "requests are cut off by their deadlines within seconds");
    }
}
