using System.Diagnostics.Metrics;

namespace WatcherSync.Relay;

/// <summary>The relay client's instruments on the <c>WatcherSync</c> meter.</summary>
internal sealed class RelayClientMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly Counter<long> _connections;
    private readonly Counter<long> _resyncs;
    private readonly Counter<long> _resumes;
    private readonly Counter<long> _updates;
    private readonly KeyValuePair<string, object?> _feed;

    public RelayClientMetrics(IMeterFactory? meterFactory, string feed)
    {
        _meter = meterFactory?.Create(new MeterOptions(WatcherSyncMeter.Name)) ?? new Meter(WatcherSyncMeter.Name);
        _feed = new KeyValuePair<string, object?>("feed", feed);
        _connections = _meter.CreateCounter<long>("watchersync.relay.client.connections", "{connection}", "Connections made to relays, successful or not.");
        _resyncs = _meter.CreateCounter<long>("watchersync.relay.client.resyncs", "{resync}", "Snapshots taken from relays.");
        _resumes = _meter.CreateCounter<long>("watchersync.relay.client.resumes", "{resume}", "Reconnections a relay continued from the client's position, without a snapshot.");
        _updates = _meter.CreateCounter<long>("watchersync.relay.client.updates", "{update}", "Updates handed to the callbacks.");
    }

    public void Connection(bool ok) => _connections.Add(1, _feed, new KeyValuePair<string, object?>("ok", ok));

    public void Resync() => _resyncs.Add(1, _feed);

    public void Resume() => _resumes.Add(1, _feed);

    public void Updates(int count) => _updates.Add(count, _feed);

    public void Dispose() => _meter.Dispose();
}
