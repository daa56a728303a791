using System.Diagnostics.Metrics;

namespace WatcherSync.Cli.Demo;

/// <summary>
/// A meter factory for the demo's syncers, and a listener on the meters it made (only those, so demos running side
/// by side in one process do not count each other): relists by syncer and reason, and watch restarts.
/// </summary>
internal sealed class DemoMeters : IMeterFactory
{
    private readonly Lock _sync = new();
    private readonly List<Meter> _meters = [];
    private readonly Dictionary<(string Syncer, string Reason), long> _relists = [];
    private readonly Dictionary<string, long> _watchRestarts = new(StringComparer.Ordinal);
    private readonly MeterListener _listener = new();

    public DemoMeters()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, this)
                && instrument.Name is "watchersync.syncer.relists" or "watchersync.syncer.watch.restarts")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>Relists of <paramref name="syncer"/>, by reason (initial, compacted, watch_errors, ...).</summary>
    public IReadOnlyDictionary<string, long> Relists(string syncer)
    {
        lock (_sync)
        {
            return _relists.Where(r => r.Key.Syncer == syncer).ToDictionary(r => r.Key.Reason, r => r.Value, StringComparer.Ordinal);
        }
    }

    /// <summary>Relists of <paramref name="syncer"/> other than its first list.</summary>
    public long RelistsAfterStart(string syncer) => Relists(syncer).Where(r => r.Key != "initial").Sum(r => r.Value);

    public long WatchRestarts(string syncer)
    {
        lock (_sync)
        {
            return _watchRestarts.GetValueOrDefault(syncer);
        }
    }

    public Meter Create(MeterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
        lock (_sync)
        {
            _meters.Add(meter);
        }

        return meter;
    }

    public void Dispose()
    {
        _listener.Dispose();
        lock (_sync)
        {
            foreach (Meter meter in _meters)
            {
                meter.Dispose();
            }

            _meters.Clear();
        }
    }

    private void OnMeasurement(Instrument instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        string syncer = string.Empty;
        string reason = "other";
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "watchersync.syncer")
            {
                syncer = tag.Value as string ?? string.Empty;
            }
            else if (tag.Key == "watchersync.relist.reason")
            {
                reason = tag.Value as string ?? "other";
            }
        }

        lock (_sync)
        {
            if (instrument.Name == "watchersync.syncer.relists")
            {
                _relists[(syncer, reason)] = _relists.GetValueOrDefault((syncer, reason)) + value;
            }
            else
            {
                _watchRestarts[syncer] = _watchRestarts.GetValueOrDefault(syncer) + value;
            }
        }
    }
}
