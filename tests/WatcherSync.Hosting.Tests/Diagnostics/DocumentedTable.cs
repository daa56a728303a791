using System.Text.RegularExpressions;
using WatcherSync.Testing;

namespace WatcherSync.Hosting.Tests.Diagnostics;

/// <summary>Reads the rows of a table in README.md: the cells of every row whose first cell matches.</summary>
internal static partial class DocumentedTable
{
    public static IReadOnlyList<string[]> Rows(Regex firstCell)
    {
        string page = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "README.md"));
        return page.Split('\n')
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
