using System.Diagnostics.Metrics;

namespace WatcherSync;

/// <summary>The syncer's instruments on the <c>WatcherSync</c> meter.</summary>
internal sealed class SyncerMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly Counter<long> _updates;
    private readonly Counter<long> _relists;
    private readonly Counter<long> _watchRestarts;
    private readonly SyncerGauges _gauges;

    public SyncerMetrics(WatcherSyncerOptions options, Func<int> status, Func<long> keys, Func<double> lastEventAge)
    {
        _ownsMeter = options.MeterFactory is null;
        _meter = WatcherSyncMeter.Create(options.MeterFactory);
        Tag = new KeyValuePair<string, object?>("watchersync.syncer", options.Name);
        Status = status;
        Keys = keys;
        LastEventAge = lastEventAge;
        _updates = _meter.CreateCounter<long>("watchersync.syncer.updates", "{update}", "Updates delivered to the callbacks.");
        _relists = _meter.CreateCounter<long>("watchersync.syncer.relists", "{relist}", "Full syncs (lists) started, by reason.");
        _watchRestarts = _meter.CreateCounter<long>("watchersync.syncer.watch.restarts", "{restart}", "Watches that ended and were started again.");
        _gauges = SyncerGauges.For(_meter);
        _gauges.Add(this);
    }

    /// <summary>Gets the tag that names the syncer on every measurement.</summary>
    public KeyValuePair<string, object?> Tag { get; }

    /// <summary>Gets the announced status, for the status gauge.</summary>
    public Func<int> Status { get; }

    /// <summary>Gets the key count, for the keys gauge.</summary>
    public Func<long> Keys { get; }

    /// <summary>Gets the seconds since the datastore was last heard from, for the age gauge.</summary>
    public Func<double> LastEventAge { get; }

    public void UpdatesDelivered(string syncer, int count) =>
        _updates.Add(count, new KeyValuePair<string, object?>("watchersync.syncer", syncer));

    public void Relisted(string syncer, RelistReason reason) =>
        _relists.Add(1, new KeyValuePair<string, object?>("watchersync.syncer", syncer), new KeyValuePair<string, object?>("watchersync.relist.reason", ReasonName(reason)));

    public void WatchRestarted(string syncer) =>
        _watchRestarts.Add(1, new KeyValuePair<string, object?>("watchersync.syncer", syncer));

    /// <summary>Stops reporting this syncer (the gauges then no longer reach it), and disposes the meter it made.</summary>
    public void Dispose()
    {
        _gauges.Remove(this);
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }

    private static string ReasonName(RelistReason reason) => reason switch
    {
        RelistReason.Initial => "initial",
        RelistReason.Compacted => "compacted",
        RelistReason.WatchErrors => "watch_errors",
        RelistReason.ContactLost => "contact_lost",
        RelistReason.Poll => "poll",
        RelistReason.Reset => "reset",
        _ => "other",
    };
}
