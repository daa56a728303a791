using System.Text.RegularExpressions;
using FluentAssertions;
using Xunit;

namespace WatcherSync.Tests;

/// <summary>The README's code is the compiled code of samples/QuickStart, to the letter.</summary>
public sealed partial class ReadmeTests
{
    private static readonly string Root = FindRoot();

    [Fact]
    public void Readme_QuickstartBlock_IsTheStartOfTheQuickStartSample()
    {
        string readme = Normalize(File.ReadAllText(Path.Combine(Root, "README.md")));
        string program = Normalize(File.ReadAllText(Path.Combine(Root, "samples", "QuickStart", "Program.cs")));
        string quickstart = program[..program.IndexOf("internal sealed class", StringComparison.Ordinal)].TrimEnd();
        readme.Should().Contain("```csharp\n" + quickstart + "\n```");
    }

    [Fact]
    public void Readme_Snippets_AreTheCompiledOnes()
    {
        string readme = Normalize(File.ReadAllText(Path.Combine(Root, "README.md")));
        string snippets = Normalize(File.ReadAllText(Path.Combine(Root, "samples", "QuickStart", "Snippets.cs")));
        MatchCollection regions = SnippetRegion().Matches(snippets);
        regions.Should().NotBeEmpty();
        foreach (Match region in regions)
        {
            string[] lines = region.Groups["body"].Value.Split('\n');
            int indent = lines.Where(l => l.Trim().Length > 0).Min(l => l.Length - l.TrimStart().Length);
            string body = string.Join('\n', lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
            readme.Should().Contain("```csharp\n" + body + "\n```", $"README must show snippet '{region.Groups["name"].Value}' as compiled");
        }
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);

    private static string FindRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "WatcherSync.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("WatcherSync.sln not found above the test's directory.");
    }

    [GeneratedRegex(@"// snippet:(?<name>\w+)\n(?<body>.*?)\n\s*// end", RegexOptions.Singleline)]
    private static partial Regex SnippetRegion();
}
