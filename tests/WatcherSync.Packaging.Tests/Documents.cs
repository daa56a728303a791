using System.Text.RegularExpressions;
using WatcherSync.Testing;

namespace WatcherSync.Packaging.Tests;

/// <summary>The README's blocks this project runs.</summary>
internal static partial class Documents
{
    /// <summary>Gets the bash block under the README's "Use from source" heading.</summary>
    public static string UseFromSourceBlock()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "README.md")).Replace("\r\n", "\n", StringComparison.Ordinal);
        Match block = UseFromSource().Match(readme);
        return block.Success ? block.Groups["body"].Value : throw new InvalidOperationException("README.md has no bash block under \"### Use from source\".");
    }

    [GeneratedRegex(@"### Use from source\n.*?```bash\n(?<body>.*?)\n```", RegexOptions.Singleline)]
    private static partial Regex UseFromSource();
}
