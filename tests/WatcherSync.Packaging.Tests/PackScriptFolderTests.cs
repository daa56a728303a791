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
    public async Task Pack_IntoAFolderWhosePathHasAnAmpersand_WritesANugetConfigThatMapsToIt_AndTheToolInstallsFromIt()
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

            // Only the framework-dependent tool was packed (as without a C compiler for the native one): the tool's
            // first package must name only what the folder holds, or `dotnet tool install` on linux-x64 looks for
            // WatcherSync.Cli.linux-x64 there and fails.
            string home = Path.Combine(work, "home");
            string tools = Path.Combine(work, "tools");
            Directory.CreateDirectory(home);
            var environment = new Dictionary<string, string> { ["HOME"] = home, ["DOTNET_CLI_HOME"] = home };
            (int installExit, string installOutput) = await ChildProcess.RunAsync(
                "dotnet", home, PackedFeed.StepTimeout, environment, "tool", "install", "WatcherSync.Cli", "--version", version, "--tool-path", tools, "--add-source", folder);
            installExit.Should().Be(0, installOutput);
            (int runExit, string runOutput) = await ChildProcess.RunAsync(Path.Combine(tools, "watchersync"), home, PackedFeed.StepTimeout, environment, "--version");
            runExit.Should().Be(0, runOutput);
            runOutput.Should().Contain(version);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
