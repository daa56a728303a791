using System.Globalization;
using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Packaging.Tests;

/// <summary>scripts/pack.sh with a WATCHERSYNC_TOOL_RIDS that packs more than one runtime package.</summary>
public sealed class PackScriptRuntimeTests
{
    [Fact]
    public async Task Pack_ToolRidsThatPackTwoRuntimePackagesOtherThanTheProjectList_Succeeds()
    {
        // Two packed runtimes whose list differs from the project's make pack.sh repack the first package with
        // -p:ToolPackageRuntimeIdentifiers=a;b: MSBuild takes ';' there as the separator of two properties. Without
        // clang only `any` is packed here, so the list names it twice; on a machine with clang "any;linux-x64"
        // (the project's two in the other order) reaches the same line.
        string folder = Directory.CreateTempSubdirectory("watchersync-red-pack-rids-").FullName;
        string version = "0.1.0-red." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        try
        {
            (int exit, string output) = await ChildProcess.RunAsync(
                "bash", RepositoryRoot.Path, PackedFeed.PackTimeout, new Dictionary<string, string> { ["WATCHERSYNC_VERSION"] = version, ["WATCHERSYNC_TOOL_RIDS"] = "any;any" }, "scripts/pack.sh", folder);
            exit.Should().Be(0, output);
            File.Exists(Path.Combine(folder, $"WatcherSync.Cli.{version}.nupkg")).Should().BeTrue(output);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
