using System.Globalization;
using System.Xml.Linq;
using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Packaging.Tests;

/// <summary>Edge cases of scripts/pack.sh with the folders users give it.</summary>
public sealed class PackScriptFolderTests
{
    [Fact]
    public async Task Pack_IntoAFolderWhosePathHasAnAmpersand_WritesANugetConfigThatMapsToIt()
    {
        // A folder such as ~/R&D/watchersync-packages: legal on every file system, and the README's first step.
        string work = Directory.CreateTempSubdirectory("watchersync-red-pack-").FullName;
        string folder = Path.Combine(work, "R&D packages");
        string version = "0.1.0-red." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        try
        {
            (int exit, string output) = await ChildProcess.RunAsync(
                "bash", RepositoryRoot.Path, PackedFeed.PackTimeout, new Dictionary<string, string> { ["WATCHERSYNC_VERSION"] = version, ["WATCHERSYNC_TOOL_RIDS"] = "any" }, "scripts/pack.sh", folder);
            exit.Should().Be(0, output);

            string config = Path.Combine(folder, "nuget.config");
            XDocument document;
            try
            {
                document = XDocument.Load(config);
            }
            catch (System.Xml.XmlException error)
            {
                throw new Xunit.Sdk.XunitException($"pack.sh wrote a nuget.config NuGet cannot read ({error.Message}):\n{await File.ReadAllTextAsync(config)}");
            }

            document.Descendants("add").Select(a => (string?)a.Attribute("value")).Should().Contain(folder);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
