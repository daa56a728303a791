using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;

namespace WatcherSync.Testing;

/// <summary>
/// Reads the rows of a table in a docs page (the cells of every row whose first cell matches), so a catalogue test can
/// hold the page to the code.
/// </summary>
public static partial class DocumentedTable
{
    /// <param name="page">The page, relative to the repository root, for example <c>docs/metrics.md</c>.</param>
    /// <param name="firstCell">Picks the rows.</param>
    public static IReadOnlyList<string[]> Rows(string page, Regex firstCell)
    {
        string text = File.ReadAllText(Path.Combine(RepositoryRoot.Path, page));
        return text.Split('\n')
            .Where(line => line.StartsWith('|'))
            .Select(line => line.Trim().Trim('|').Split(" | ").Select(cell => cell.Trim().Trim('`')).ToArray())
            .Where(cells => firstCell.IsMatch(cells[0]))
            .ToList();
    }

    /// <summary>The type column of the Metrics table for an instrument: counter, updowncounter, gauge or histogram.</summary>
    public static string Kind(Instrument instrument)
    {
        Type definition = instrument.GetType().GetGenericTypeDefinition();
        return definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>) ? "counter"
            : definition == typeof(UpDownCounter<>) || definition == typeof(ObservableUpDownCounter<>) ? "updowncounter"
            : definition == typeof(ObservableGauge<>) || definition == typeof(Gauge<>) ? "gauge"
            : definition == typeof(Histogram<>) ? "histogram"
            : definition.Name;
    }

    /// <summary>Every instrument except the relay's (those are checked by the relay's tests, which run a relay).</summary>
    [GeneratedRegex(@"^watchersync\.(?!relay\.)")]
    public static partial Regex InstrumentName();

    /// <summary>The relay server's and relay client's instruments.</summary>
    [GeneratedRegex(@"^watchersync\.relay\.")]
    public static partial Regex RelayInstrumentName();

    [GeneratedRegex(@"^\d{4}$")]
    public static partial Regex EventId();
}
