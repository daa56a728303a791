using System.Reflection;
using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Packaging.Tests;

/// <summary>
/// The public API of each package against the list committed in PublicApi/, so that every change to it is deliberate
/// and visible in review. To accept a change, run the tests with WATCHERSYNC_ACCEPT_API=1 and commit the new lists.
/// </summary>
public sealed class PublicApiTests
{
    public static TheoryData<string> Packages => new()
    {
        "WatcherSync",
        "WatcherSync.Etcd",
        "WatcherSync.DataSync",
        "WatcherSync.Hosting",
        "WatcherSync.Relay",
        "WatcherSync.Relay.Server",
    };

    [Theory]
    [MemberData(nameof(Packages))]
    public void PublicApi_MatchesTheCommittedList(string package)
    {
        string actual = PublicApiFormatter.Format(Assembly.Load(package));
        string file = Path.Combine(RepositoryRoot.Path, "tests", "WatcherSync.Packaging.Tests", "PublicApi", package + ".txt");
        if (Environment.GetEnvironmentVariable("WATCHERSYNC_ACCEPT_API") == "1")
        {
            File.WriteAllText(file, actual);
        }

        string expected = File.Exists(file) ? File.ReadAllText(file).ReplaceLineEndings("\n") : string.Empty;
        if (actual == expected)
        {
            return;
        }

        string[] before = expected.Split('\n');
        string[] after = actual.Split('\n');
        IEnumerable<string> removed = before.Except(after).Select(l => "- " + l);
        IEnumerable<string> added = after.Except(before).Select(l => "+ " + l);
        Assert.Fail(
            $"The public API of {package} changed (- removed, + added):{Environment.NewLine}"
            + string.Join(Environment.NewLine, removed.Concat(added)) + Environment.NewLine
            + $"If the change is deliberate, run 'WATCHERSYNC_ACCEPT_API=1 dotnet test tests/WatcherSync.Packaging.Tests' and commit {Path.GetRelativePath(RepositoryRoot.Path, file)}.");
    }

    [Fact]
    public void Formatter_WritesKindsModifiersDefaultsAndInitAccessors()
    {
        string api = PublicApiFormatter.Format(typeof(WatcherSyncer).Assembly);

        api.Should().Contain("sealed class WatcherSync.WatcherSyncer : System.IAsyncDisposable, WatcherSync.ISyncer\n")
            .And.Contain("  ctor(WatcherSync.IBackendClient client, System.Collections.Generic.IEnumerable<WatcherSync.ResourceType> resourceTypes, WatcherSync.ISyncerCallbacks callbacks, WatcherSync.WatcherSyncerOptions? options = null)\n")
            .And.Contain("  System.TimeSpan TimeSinceLastEvent { get; }\n")
            .And.Contain("enum WatcherSync.SyncStatus\n  InSync = 2\n")
            .And.Contain("System.TimeSpan? Ttl { get; init; }")
            .And.Contain("static System.Collections.Generic.IAsyncEnumerable<WatcherSync.KVPair?> WatchKeyAsync(")
            .And.Contain("System.Threading.CancellationToken cancellationToken = default)");
    }
}
