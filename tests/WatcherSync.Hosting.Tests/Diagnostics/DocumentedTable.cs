using System.Text.RegularExpressions;
using WatcherSync.Testing;

namespace WatcherSync.Hosting.Tests.Diagnostics;

/// <summary>Reads the rows of a table in a docs page: the cells of every row whose first cell matches.</summary>
internal static partial class DocumentedTable
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

    [GeneratedRegex(@"^watchersync\.")]
    public static partial Regex InstrumentName();

    [GeneratedRegex(@"^\d{4}$")]
    public static partial Regex EventId();
}
