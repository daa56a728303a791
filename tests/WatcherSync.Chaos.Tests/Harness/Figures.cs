using System.Globalization;
using Xunit.Abstractions;

namespace WatcherSync.Chaos.Tests.Harness;

/// <summary>
/// The figures of one fault over its runs: writes, faults injected, time to converge, updates lost. Written to the test
/// output and, when <c>WATCHERSYNC_CHAOS_FIGURES</c> names a file, appended to it as one tab-separated line.
/// </summary>
internal sealed class Figures(string fault)
{
    private static readonly Lock FileLock = new();
    private readonly Lock _sync = new();
    private readonly List<double> _convergeSeconds = [];
    private int _runs;
    private long _writes;
    private long _faults;
    private long _lost;

    /// <summary>Records one run: the writes acknowledged, the faults injected, one convergence.</summary>
    public void Add(long writes, long faults, TimeSpan converge, int lost)
    {
        Run(writes, faults, lost);
        Converged(converge);
    }

    /// <summary>Records one run's writes, faults and updates lost.</summary>
    public void Run(long writes, long faults, int lost)
    {
        lock (_sync)
        {
            _runs++;
            _writes += writes;
            _faults += faults;
            _lost += lost;
        }
    }

    /// <summary>Records one time to converge (a run may settle after each fault).</summary>
    public void Converged(TimeSpan converge)
    {
        lock (_sync)
        {
            _convergeSeconds.Add(converge.TotalSeconds);
        }
    }

    public void Report(ITestOutputHelper output, string notes = "")
    {
        string line;
        lock (_sync)
        {
            double[] sorted = [.. _convergeSeconds.Order()];
            double p50 = sorted.Length == 0 ? 0 : sorted[(sorted.Length - 1) / 2];
            double max = sorted.Length == 0 ? 0 : sorted[^1];
            line = string.Join(
                '\t',
                fault,
                _runs.ToString(CultureInfo.InvariantCulture),
                _writes.ToString(CultureInfo.InvariantCulture),
                _faults.ToString(CultureInfo.InvariantCulture),
                sorted.Length.ToString(CultureInfo.InvariantCulture),
                p50.ToString("0.000", CultureInfo.InvariantCulture),
                max.ToString("0.000", CultureInfo.InvariantCulture),
                _lost.ToString(CultureInfo.InvariantCulture),
                Soak.Enabled ? "soak" : "default",
                notes);
        }

        output.WriteLine("FIGURES\t" + line);
        if (Environment.GetEnvironmentVariable("WATCHERSYNC_CHAOS_FIGURES") is { Length: > 0 } file)
        {
            lock (FileLock)
            {
                File.AppendAllText(file, line + Environment.NewLine);
            }
        }
    }
}
