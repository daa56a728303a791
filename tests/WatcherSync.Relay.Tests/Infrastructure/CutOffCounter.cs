using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace WatcherSync.Relay.Tests;

/// <summary>Counts one relay's <c>watchersync.relay.clients_cut_off</c> measurements, in total and per reason.</summary>
internal sealed class CutOffCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _byReason = new(StringComparer.Ordinal);

    public CutOffCounter(TestRelay relay)
    {
        object scope = relay.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == scope && instrument.Name == "watchersync.relay.clients_cut_off")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string reason = "(none)";
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "reason")
                {
                    reason = tag.Value as string ?? reason;
                }
            }

            lock (_byReason)
            {
                _byReason[reason] = _byReason.GetValueOrDefault(reason) + value;
            }
        });
        _listener.Start();
    }

    /// <summary>Gets the clients cut off for <paramref name="reason"/>, or for any reason when it is null.</summary>
    public long Count(string? reason = null)
    {
        lock (_byReason)
        {
            return reason is null ? _byReason.Values.Sum() : _byReason.GetValueOrDefault(reason);
        }
    }

    public void Dispose() => _listener.Dispose();
}
