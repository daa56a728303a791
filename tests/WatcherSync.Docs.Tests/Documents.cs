using System.Text.RegularExpressions;
using WatcherSync.Testing;

namespace WatcherSync.Docs.Tests;

/// <summary>The documents a user reads (README.md, docs/*.md, each package's README.md) and the compiled snippets.</summary>
internal static partial class Documents
{
    public static IEnumerable<string> Paths =>
        new[] { "README.md" }
            .Concat(Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "docs"), "*.md").Select(Relative))
            .Concat(Directory.GetDirectories(Path.Combine(RepositoryRoot.Path, "src"))
                .Select(d => Path.Combine(d, "README.md")).Where(File.Exists).Select(Relative))
            .Order(StringComparer.Ordinal);

    public static string Read(string relativePath) => Normalize(File.ReadAllText(Path.Combine(RepositoryRoot.Path, relativePath)));

    /// <summary>Gets the body of each fenced block of the given language in a document.</summary>
    public static IReadOnlyList<string> Blocks(string relativePath, string language) =>
        [.. FencedBlock().Matches(Read(relativePath)).Where(m => m.Groups["lang"].Value == language).Select(m => m.Groups["body"].Value)];

    /// <summary>Gets each "// snippet:name" ... "// end" region of samples/Snippets, dedented.</summary>
    public static IReadOnlyDictionary<string, string> Snippets()
    {
        var regions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string file in Directory.GetFiles(Path.Combine(RepositoryRoot.Path, "samples", "Snippets"), "*.cs"))
        {
            foreach (Match region in SnippetRegion().Matches(Normalize(File.ReadAllText(file))))
            {
                string[] lines = region.Groups["body"].Value.Split('\n');
                int indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
                regions.Add(region.Groups["name"].Value, string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart())));
            }
        }

        return regions;
    }

    /// <summary>Gets samples/QuickStart/Program.cs (what the README shows, whole).</summary>
    public static string QuickStart() => Read(Path.Combine("samples", "QuickStart", "Program.cs")).TrimEnd();

    private static string Relative(string path) => Path.GetRelativePath(RepositoryRoot.Path, path);

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    [GeneratedRegex(@"^```(?<lang>\w*)\n(?<body>.*?)\n```", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex FencedBlock();

    [GeneratedRegex(@"// snippet:(?<name>\w+)\n(?<body>.*?)\n\s*// end", RegexOptions.Singleline)]
    private static partial Regex SnippetRegion();
}
