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

    public SyncerMetrics(WatcherSyncerOptions options, Func<int> status, Func<long> keys, Func<double> lastEventAge)
    {
        _ownsMeter = options.MeterFactory is null;
        _meter = WatcherSyncMeter.Create(options.MeterFactory);
        var syncer = new KeyValuePair<string, object?>("watchersync.syncer", options.Name);
        _updates = _meter.CreateCounter<long>("watchersync.syncer.updates", "{update}", "Updates delivered to the callbacks.");
        _relists = _meter.CreateCounter<long>("watchersync.syncer.relists", "{relist}", "Full syncs (lists) started, by reason.");
        _watchRestarts = _meter.CreateCounter<long>("watchersync.syncer.watch.restarts", "{restart}", "Watches that ended and were started again.");
        _meter.CreateObservableGauge("watchersync.syncer.status", () => new Measurement<int>(status(), syncer), "{status}", "The announced sync status: 0 WaitForDatastore, 1 ResyncInProgress, 2 InSync.");
        _meter.CreateObservableGauge("watchersync.syncer.keys", () => new Measurement<long>(keys(), syncer), "{key}", "Keys held by the watcher caches.");
        _meter.CreateObservableGauge("watchersync.syncer.last_event.age", () => new Measurement<double>(lastEventAge(), syncer), "s", "Time since the datastore was last heard from.");
    }

    public void UpdatesDelivered(string syncer, int count) =>
        _updates.Add(count, new KeyValuePair<string, object?>("watchersync.syncer", syncer));

    public void Relisted(string syncer, RelistReason reason) =>
        _relists.Add(1, new KeyValuePair<string, object?>("watchersync.syncer", syncer), new KeyValuePair<string, object?>("watchersync.relist.reason", ReasonName(reason)));

    public void WatchRestarted(string syncer) =>
        _watchRestarts.Add(1, new KeyValuePair<string, object?>("watchersync.syncer", syncer));

    public void Dispose()
    {
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
