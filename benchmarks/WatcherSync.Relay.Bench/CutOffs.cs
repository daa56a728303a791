using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

/// <summary>Counts the relay's cut-offs by reason (<c>watchersync.relay.clients_cut_off</c>), for the bench's report.</summary>
internal sealed class CutOffs : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _byReason = new(StringComparer.Ordinal);

    public CutOffs()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "WatcherSync" && instrument.Name == "watchersync.relay.clients_cut_off")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string reason = "?";
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "reason")
                {
                    reason = tag.Value?.ToString() ?? "?";
                }
            }

            _byReason.AddOrUpdate(reason, value, (_, sum) => sum + value);
        });
        _listener.Start();
    }

    /// <summary>Gets the cut-offs so far, as "reason N, ...", or "none".</summary>
    public override string ToString() =>
        _byReason.IsEmpty ? "none" : string.Join(", ", _byReason.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Key} {r.Value}"));

    public void Dispose() => _listener.Dispose();
}
