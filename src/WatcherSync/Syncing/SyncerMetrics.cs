using System.Diagnostics.Metrics;

namespace WatcherSync;

/// <summary>The syncer's instruments on the <c>WatcherSync</c> meter.</summary>
/// <remarks>
/// Nothing is created or registered until <see cref="Start"/>: a syncer that is built and never started (a
/// configuration abandoned) makes no meter, joins no gauges, and is collectable. State: before <see cref="Start"/>,
/// <c>_meter</c> and the instruments are null and the syncer is not in <c>_gauges</c>; between <see cref="Start"/> and
/// <see cref="Dispose"/> it is in the gauges (exactly the syncers started on a meter and not yet stopped); after
/// <see cref="Dispose"/> it is not, and a meter it made is disposed. <see cref="Start"/> runs at most once (the syncer
/// starts once).
/// </remarks>
internal sealed class SyncerMetrics : IDisposable
{
    private readonly IMeterFactory? _meterFactory;
    private readonly Lock _sync = new();
    private Meter? _meter;
    private Counter<long>? _updates;
    private Counter<long>? _relists;
    private Counter<long>? _watchRestarts;
    private SyncerGauges? _gauges;
    private bool _disposed;

    public SyncerMetrics(WatcherSyncerOptions options, Func<int> status, Func<long> keys, Func<double> lastEventAge)
    {
        _meterFactory = options.MeterFactory;
        Tag = new KeyValuePair<string, object?>("watchersync.syncer", options.Name);
        Status = status;
        Keys = keys;
        LastEventAge = lastEventAge;
    }

    /// <summary>Creates the instruments and joins the meter's gauges: the syncer is reported from now until <see cref="Dispose"/>.</summary>
    public void Start()
    {
        lock (_sync)
        {
            if (_disposed || _meter is not null)
            {
                return;
            }

            Meter meter = WatcherSyncMeter.Create(_meterFactory);
            _updates = meter.CreateCounter<long>("watchersync.syncer.updates", "{update}", "Updates delivered to the callbacks.");
            _relists = meter.CreateCounter<long>("watchersync.syncer.relists", "{relist}", "Full syncs (lists) started, by reason.");
            _watchRestarts = meter.CreateCounter<long>("watchersync.syncer.watch.restarts", "{restart}", "Watches that ended and were started again.");
            _gauges = SyncerGauges.For(meter);
            _gauges.Add(this);
            _meter = meter;
        }
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
        _updates?.Add(count, new KeyValuePair<string, object?>("watchersync.syncer", syncer));

    public void Relisted(string syncer, RelistReason reason) =>
        _relists?.Add(1, new KeyValuePair<string, object?>("watchersync.syncer", syncer), new KeyValuePair<string, object?>("watchersync.relist.reason", ReasonName(reason)));

    public void WatchRestarted(string syncer) =>
        _watchRestarts?.Add(1, new KeyValuePair<string, object?>("watchersync.syncer", syncer));

    /// <summary>Stops reporting this syncer (the gauges then no longer reach it), and disposes the meter it made.</summary>
    public void Dispose()
    {
        Meter? meter;
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _gauges?.Remove(this);
            meter = _meter;
        }

        if (_meterFactory is null)
        {
            meter?.Dispose();
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
