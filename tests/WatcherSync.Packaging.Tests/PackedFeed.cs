using System.Globalization;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Packaging.Tests;

/// <summary>
/// Every package packed once by scripts/pack.sh into a temporary folder, with a version no earlier run used (so the
/// global packages folder never serves a stale copy); the restored copies of that version are removed afterwards.
/// </summary>
public sealed class PackedFeed : IAsyncLifetime
{
    public static readonly string[] Libraries = ["WatcherSync", "WatcherSync.Etcd", "WatcherSync.DataSync", "WatcherSync.Hosting", "WatcherSync.Hosting.Etcd", "WatcherSync.Hosting.Relay", "WatcherSync.Relay", "WatcherSync.Relay.Server"];

    /// <summary>The tool's runtime packages scripts/pack.sh makes on this machine (linux-x64): the framework-dependent one and the native one.</summary>
    public static readonly string[] ToolRuntimePackages = ["WatcherSync.Cli.any", "WatcherSync.Cli.linux-x64"];

    public static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(4);

    /// <summary>
    /// How long scripts/pack.sh may take: the libraries, then the tool twice, once compiled to native code: over 20 min on
    /// 2 cores at load average 30, where a 20 min limit failed the run.
    /// </summary>
    public static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(45);

    public static string[] Projects { get; } = [.. Directory.GetDirectories(Path.Combine(RepositoryRoot.Path, "src"))
        .Select(d => Path.Combine(d, Path.GetFileName(d) + ".csproj"))
        .Where(File.Exists)];

    public string Version { get; } = "0.1.0-dev." + DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);

    public string Work { get; } = Directory.CreateTempSubdirectory("watchersync-pack-").FullName;

    public string Feed => Path.Combine(Work, "feed");

    private static string GlobalPackages => System.Environment.GetEnvironmentVariable("NUGET_PACKAGES")
        ?? Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    /// <summary>Gets the environment of a child that acts as a user whose home folder is <paramref name="home"/>.</summary>
    public Dictionary<string, string> Environment(string home) => new()
    {
        ["HOME"] = home,
        ["DOTNET_CLI_HOME"] = home,
        ["NUGET_PACKAGES"] = GlobalPackages,
        ["WATCHERSYNC_VERSION"] = Version,
    };

    public async Task InitializeAsync()
    {
        (int exit, string output) = await ChildProcess.RunAsync(
            "bash", RepositoryRoot.Path, PackTimeout, new Dictionary<string, string> { ["WATCHERSYNC_VERSION"] = Version }, "scripts/pack.sh", Feed);
        if (exit != 0)
        {
            throw new InvalidOperationException($"scripts/pack.sh failed with exit code {exit}:{System.Environment.NewLine}{output}");
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Work, recursive: true);
        foreach (string id in Libraries.Append("WatcherSync.Cli").Concat(ToolRuntimePackages))
        {
            string restored = Path.Combine(GlobalPackages, id.ToLowerInvariant(), Version);
            if (Directory.Exists(restored))
            {
                Directory.Delete(restored, recursive: true);
            }
        }

        return Task.CompletedTask;
    }
}
