using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace WatcherSync.Etcd.Diagnostics;

/// <summary>The etcd backend's instruments on the shared <c>WatcherSync</c> meter.</summary>
internal sealed class EtcdMetrics : IDisposable
{
    // OpenTelemetry's buckets for request durations in seconds (its semantic conventions for HTTP and RPC): without
    // advice, exporters fall back to buckets meant for milliseconds and every request lands in the first one.
    private static readonly InstrumentAdvice<double> DurationBuckets = new()
    {
        HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    };

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _failovers;
    private readonly Counter<long> _watchEvents;
    private readonly Counter<long> _watchReconnects;
    private readonly Counter<long> _leasesLost;

    public EtcdMetrics(IMeterFactory? meterFactory)
    {
        // The factory's meter when given (the factory disposes it), else one this client owns and disposes.
        _ownsMeter = meterFactory is null;
        _meter = WatcherSyncMeter.Create(meterFactory);
        _requests = _meter.CreateCounter<long>("watchersync.etcd.requests", "{request}", "Requests sent to etcd, by operation and outcome.");
        _duration = _meter.CreateHistogram("watchersync.etcd.request.duration", "s", "Duration of requests to etcd, failover included.", tags: null, advice: DurationBuckets);
        _failovers = _meter.CreateCounter<long>("watchersync.etcd.failovers", "{failover}", "Moves to another etcd endpoint after a failure.");
        _watchEvents = _meter.CreateCounter<long>("watchersync.etcd.watch.events", "{event}", "Events delivered by etcd watches.");
        _watchReconnects = _meter.CreateCounter<long>("watchersync.etcd.watch.reconnects", "{reconnect}", "Watch streams re-opened after a break.");
        _leasesLost = _meter.CreateCounter<long>("watchersync.etcd.client_lease.lost", "{lease}", "Client leases etcd said were gone (their keys with them).");
    }

    public void RequestDone(string operation, string outcome, double seconds)
    {
        var tags = new TagList { { "watchersync.etcd.operation", operation }, { "watchersync.etcd.outcome", outcome } };
        _requests.Add(1, tags);
        _duration.Record(seconds, tags);
    }

    public void FailedOver() => _failovers.Add(1);

    public void WatchEvents(int count) => _watchEvents.Add(count);

    public void WatchReconnected() => _watchReconnects.Add(1);

    public void ClientLeaseLost() => _leasesLost.Add(1);

    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
