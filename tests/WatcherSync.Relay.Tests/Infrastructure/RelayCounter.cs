using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace WatcherSync.Relay.Tests;

/// <summary>Counts one relay's measurements of one counter (cut-offs, snapshots sent, bytes sent, resumes), in total and per value of one tag.</summary>
internal sealed class RelayCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _byReason = new(StringComparer.Ordinal);

    public RelayCounter(TestRelay relay, string instrumentName, string tagName = "reason")
    {
        object scope = relay.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Scope == scope && instrument.Name == instrumentName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string reason = "(none)";
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == tagName)
                {
                    reason = tag.Value?.ToString() ?? reason;
                }
            }

            lock (_byReason)
            {
                _byReason[reason] = _byReason.GetValueOrDefault(reason) + value;
            }
        });
        _listener.Start();
    }

    /// <summary>Gets the sum of the measurements tagged <paramref name="reason"/>, or of all of them when it is null.</summary>
    public long Count(string? reason = null)
    {
        lock (_byReason)
        {
            return reason is null ? _byReason.Values.Sum() : _byReason.GetValueOrDefault(reason);
        }
    }

    public void Dispose() => _listener.Dispose();
}
