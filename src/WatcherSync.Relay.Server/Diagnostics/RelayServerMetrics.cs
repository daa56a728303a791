using System.Diagnostics.Metrics;

namespace WatcherSync.Relay.Server;

/// <summary>The relay server's instruments on the <c>WatcherSync</c> meter.</summary>
internal sealed class RelayServerMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly Counter<long> _snapshotsSent;
    private readonly Counter<long> _snapshotsEncoded;
    private readonly Counter<long> _bytesSent;
    private readonly Counter<long> _cutOff;
    private readonly Counter<long> _refused;
    private readonly Counter<long> _resumes;
    private readonly Counter<long> _chunksCompressed;
    private readonly Counter<long> _compressionPlain;
    private readonly Counter<long> _compressionSent;

    public RelayServerMetrics(IMeterFactory? meterFactory, RelayConnections connections, SnapshotAdmission admission)
    {
        _meter = meterFactory?.Create(new MeterOptions(WatcherSyncMeter.Name)) ?? new Meter(WatcherSyncMeter.Name);
        _meter.CreateObservableUpDownCounter("watchersync.relay.clients", () => (long)connections.Count, "{client}", "Clients connected to the relay.");
        _meter.CreateObservableGauge("watchersync.relay.connection_limit", () => (long)connections.Limit, "{client}", "The relay's connection limit (changed at run time by RelayServerControl.SetMaxConnections).");
        _meter.CreateObservableUpDownCounter("watchersync.relay.snapshots_in_flight", () => (long)admission.InFlight, "{client}", "Clients receiving a snapshot now (at most MaxConcurrentSnapshots).");
        _meter.CreateObservableUpDownCounter("watchersync.relay.snapshots_waiting", () => (long)admission.Waiting, "{client}", "Clients waiting for their turn to receive a snapshot.");
        _meter.CreateObservableGauge("watchersync.relay.lag", connections.MaxLag, "{entry}", "How far the furthest-behind client of each feed is behind the feed's log.");
        _snapshotsSent = _meter.CreateCounter<long>("watchersync.relay.snapshots_sent", "{snapshot}", "Snapshots sent to clients.");
        _snapshotsEncoded = _meter.CreateCounter<long>("watchersync.relay.snapshots_encoded", "{snapshot}", "Snapshots encoded (each shared by every client that takes it).");
        _bytesSent = _meter.CreateCounter<long>("watchersync.relay.bytes_sent", "By", "Bytes of messages sent to clients.");
        _cutOff = _meter.CreateCounter<long>("watchersync.relay.clients_cut_off", "{client}", "Clients dropped: for falling behind, not reading or not answering pings, or moved to other relays.");
        _resumes = _meter.CreateCounter<long>("watchersync.relay.resumes", "{client}", "Clients continued from the position they sent, without a snapshot.");
        _chunksCompressed = _meter.CreateCounter<long>("watchersync.relay.compression.chunks", "{chunk}", "Shared chunks compressed (each at most once, however many clients take it); paid=false when it did not shrink enough and is sent plain.");
        _compressionPlain = _meter.CreateCounter<long>("watchersync.relay.compression.plain_bytes", "By", "Plain size of the chunks sent to clients that accept compression.");
        _compressionSent = _meter.CreateCounter<long>("watchersync.relay.compression.sent_bytes", "By", "Bytes of those chunks as sent (compressed, or plain where compression did not pay): divided by plain_bytes, the compression ratio.");
        _refused = _meter.CreateCounter<long>("watchersync.relay.clients_refused", "{client}", "Connections refused (credentials, connection limit, bad hello).");
    }

    public void SnapshotSent() => _snapshotsSent.Add(1);

    public void SnapshotEncoded(long bytes) => _snapshotsEncoded.Add(1, new KeyValuePair<string, object?>("bytes", bytes > 0));

    public void BytesSent(long bytes) => _bytesSent.Add(bytes);

    public void CutOff(string reason) => _cutOff.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Resumed(string by) => _resumes.Add(1, new KeyValuePair<string, object?>("by", by));

    public void Refused(string reason) => _refused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void ChunkCompressed(bool paid) => _chunksCompressed.Add(1, new KeyValuePair<string, object?>("paid", paid));

    /// <summary>Counts chunks of <paramref name="plain"/> bytes sent as <paramref name="sent"/> bytes to a client that accepts compression.</summary>
    public void Compression(long plain, long sent)
    {
        _compressionPlain.Add(plain);
        _compressionSent.Add(sent);
    }

    public void Dispose() => _meter.Dispose();
}
