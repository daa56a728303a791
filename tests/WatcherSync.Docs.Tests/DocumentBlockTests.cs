using FluentAssertions;
using Xunit;

namespace WatcherSync.Docs.Tests;

/// <summary>Every C# block a user can copy is compiled code: the QuickStart sample or a region of samples/Snippets.</summary>
public sealed class DocumentBlockTests
{
    public static TheoryData<string> DocumentPaths => [.. Documents.Paths];

    [Theory]
    [MemberData(nameof(DocumentPaths))]
    public void EveryCSharpBlock_IsCompiledCode(string document)
    {
        IReadOnlyDictionary<string, string> snippets = Documents.Snippets();
        string quickStart = Documents.QuickStart();
        foreach (string block in Documents.Blocks(document, "csharp"))
        {
            bool compiled = block == quickStart || snippets.Values.Contains(block);
            compiled.Should().BeTrue($"{document} shows this block, which is neither samples/QuickStart nor a region of samples/Snippets:\n{block}");
        }
    }

    [Fact]
    public void EverySnippet_IsShownInADocument()
    {
        string[] blocks = [.. Documents.Paths.SelectMany(d => Documents.Blocks(d, "csharp"))];
        foreach ((string name, string body) in Documents.Snippets())
        {
            blocks.Should().Contain(body, $"snippet '{name}' is compiled to be shown somewhere, as written");
        }
    }

    [Fact]
    public void TheDocumentsHaveCSharpBlocks()
    {
        // Guards the two tests above against a pattern that matches nothing.
        Documents.Paths.Should().Contain(["README.md", "docs/relay.md", "src/WatcherSync.DataSync/README.md"]);
        Documents.Blocks("README.md", "csharp").Should().HaveCountGreaterThan(3);
        Documents.Snippets().Should().ContainKeys("etcd", "package_datasync", "relay_server");
    }
}
