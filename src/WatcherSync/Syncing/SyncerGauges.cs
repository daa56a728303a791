using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;

namespace WatcherSync;

/// <summary>
/// The syncers' observable gauges on one meter, created once per meter and reporting one measurement per running
/// syncer. A meter from an application's <see cref="IMeterFactory"/> is shared and outlives the syncers that use it:
/// a syncer leaves the set when it stops, so it reports nothing afterwards and the meter does not keep it alive.
/// </summary>
internal sealed class SyncerGauges
{
    private static readonly ConditionalWeakTable<Meter, SyncerGauges> ByMeter = [];

    // Invariant: exactly the syncers started on this meter and not yet stopped; guarded by _sync.
    private readonly Lock _sync = new();
    private readonly List<SyncerMetrics> _live = [];

    private SyncerGauges(Meter meter)
    {
        meter.CreateObservableGauge("watchersync.syncer.status", () => Observe(static s => new Measurement<int>(s.Status(), s.Tag)), "{status}", "The announced sync status: 0 WaitForDatastore, 1 ResyncInProgress, 2 InSync.");
        meter.CreateObservableGauge("watchersync.syncer.keys", () => Observe(static s => new Measurement<long>(s.Keys(), s.Tag)), "{key}", "Keys held by the watcher caches.");
        meter.CreateObservableGauge("watchersync.syncer.last_event.age", () => Observe(static s => new Measurement<double>(s.LastEventAge(), s.Tag)), "s", "Time since the datastore was last heard from.");
    }

    /// <summary>Gets the gauges of <paramref name="meter"/>, creating them on first use.</summary>
    public static SyncerGauges For(Meter meter) => ByMeter.GetValue(meter, static m => new SyncerGauges(m));

    /// <summary>Gets how many syncers the gauges report.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _live.Count;
            }
        }
    }

    public void Add(SyncerMetrics syncer)
    {
        lock (_sync)
        {
            _live.Add(syncer);
        }
    }

    public void Remove(SyncerMetrics syncer)
    {
        lock (_sync)
        {
            _live.Remove(syncer);
        }
    }

    private Measurement<T>[] Observe<T>(Func<SyncerMetrics, Measurement<T>> measure)
        where T : struct
    {
        SyncerMetrics[] live;
        lock (_sync)
        {
            live = [.. _live];
        }

        return Array.ConvertAll(live, s => measure(s));
    }
}
