using System.Diagnostics.Metrics;

namespace WatcherSync;

/// <summary>The one <see cref="Meter"/> every WatcherSync component publishes its instruments on.</summary>
public static class WatcherSyncMeter
{
    /// <summary>The meter's name: <c>WatcherSync</c>.</summary>
    public const string Name = "WatcherSync";

    /// <summary>Creates the meter through <paramref name="meterFactory"/>, or a meter of its own when that is null.</summary>
    internal static Meter Create(IMeterFactory? meterFactory) =>
        meterFactory?.Create(new MeterOptions(Name)) ?? new Meter(Name);
}
