using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Aot.Tests;

/// <summary>
/// The watchersync tool as a native AOT binary (the one its linux-x64 tool package carries): published once with
/// PublishAot (no trim or AOT finding in the tool, its libraries, System.CommandLine, Spectre.Console, gRPC and ASP.NET
/// Core), then each command run as a user runs it, its output checked.
/// </summary>
public sealed class AotToolTests(PublishedTool tool, EtcdFixture etcd)
    : IClassFixture<PublishedTool>, IClassFixture<EtcdFixture>
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public void Publish_MakesANativeExecutableWithoutManagedAssemblies()
    {
        tool.ShouldBeANativeExecutableWithoutFindings();
        Directory.GetFiles(tool.Output).Select(Path.GetFileName).Should().Equal(["WatcherSync.Cli"], "the tool package carries the binary alone: no symbols, no XML docs");
    }

    [Fact]
    public async Task Version_PrintsTheToolVersion()
    {
        using ToolProcess version = await ToolProcess.RunAsync(tool.Binary, RunTimeout, "--version");

        version.ExitCode.Should().Be(0, version.Error);
        version.Out.Trim().Should().MatchRegex(@"^0\.1\.0(-[0-9A-Za-z.]+)?(\+[0-9a-f]+)?$", "the informational version of the build");
    }

    [Fact]
    public async Task Demo_Json_ChecksThePictureAndPasses()
    {
        using ToolProcess demo = await ToolProcess.RunAsync(tool.Binary, RunTimeout, "demo", "--duration", "2", "--keys", "300", "--json");

        demo.ExitCode.Should().Be(0, demo.Error);
        using JsonDocument result = JsonDocument.Parse(demo.Out);
        JsonElement root = result.RootElement;
        root.GetProperty("passed").GetBoolean().Should().BeTrue(demo.Out);
        root.GetProperty("settings").GetProperty("keys").GetInt32().Should().Be(300);
        root.GetProperty("writes").GetProperty("total").GetInt64().Should().BePositive("the writers ran");
        root.GetProperty("sink").GetProperty("updates").GetInt64().Should().BePositive("the sink was handed the changes");
        root.GetProperty("mirror").GetProperty("matches").GetBoolean().Should().BeTrue();
        root.GetProperty("follower").GetProperty("matches").GetBoolean().Should().BeTrue();
        demo.Error.Should().Contain("Summary (seed 1, 4 writers, 300 initial keys", "the summary goes to stderr with --json");
    }

    [Fact]
    public async Task Demo_Text_PrintsTheSummaryAndTheChecks()
    {
        using ToolProcess demo = await ToolProcess.RunAsync(tool.Binary, RunTimeout, "demo", "--duration", "1", "--keys", "200");

        demo.ExitCode.Should().Be(0, demo.Error);
        demo.Out.Should().Contain("Summary (seed 1, 4 writers, 200 initial keys")
            .And.MatchRegex(@"mirror matches datastore: \d+ keys")
            .And.MatchRegex(@"follower view matches datastore: \d+ failed pods");
    }

    [Fact]
    public async Task RelayDemo_ServesAFeed_ThatTheNativeMirrorCounts_AndStopsOnSigterm()
    {
        string address = $"http://127.0.0.1:{FreePort()}";
        using ToolProcess relay = ToolProcess.Start(tool.Binary, "relay", "--demo", "--demo-keys", "200", "--allow-anonymous", "--listen", address);
        await Eventually.True(() => relay.Error.Contains("serving feed 'default'", StringComparison.Ordinal) || relay.HasExited, "the relay starts", RunTimeout);
        relay.HasExited.Should().BeFalse(relay.Error);

        using ToolProcess count = await ToolProcess.RunAsync(tool.Binary, RunTimeout, "mirror", "--relay", address, "--count", "--timeout", "60");

        count.ExitCode.Should().Be(0, count.Error);
        int.Parse(count.Out.Trim(), System.Globalization.CultureInfo.InvariantCulture).Should().BeInRange(1, 200 * 2, "the demo store's keys under the watched prefixes");
        await relay.TerminateAsync();
        await relay.WaitAsync(RunTimeout, "the relay stops on SIGTERM");
        relay.ExitCode.Should().Be(0, relay.Error);
    }

    [Fact]
    public async Task Mirror_OnEtcd_PrintsEachKeyAsAJsonLine_AndCounts()
    {
        string prefix = $"/aot-tool-{Guid.NewGuid():N}/";
        await RawGateway.PutManyAsync(etcd.Endpoint, [(prefix + "a", "alpha"u8.ToArray()), (prefix + "b", "beta"u8.ToArray()), (prefix + "bin", [0xff, 0xfe, 0x00])]);

        using ToolProcess count = await ToolProcess.RunAsync(tool.Binary, RunTimeout, "mirror", "--endpoints", etcd.Endpoint, "--prefix", prefix, "--count");
        count.ExitCode.Should().Be(0, count.Error);
        count.Out.Trim().Should().Be("3");

        using ToolProcess mirror = ToolProcess.Start(tool.Binary, "mirror", "--endpoints", etcd.Endpoint, "--prefix", prefix);
        await Eventually.True(() => Lines(mirror.Out).Length >= 3 || mirror.HasExited, "the mirror prints the three keys", RunTimeout);
        await RawGateway.PutManyAsync(etcd.Endpoint, [(prefix + "a", "again"u8.ToArray())]);
        await Eventually.True(() => Lines(mirror.Out).Length >= 4 || mirror.HasExited, "the mirror prints the change", RunTimeout);
        await mirror.TerminateAsync();
        await mirror.WaitAsync(RunTimeout, "the mirror stops on SIGTERM");

        mirror.ExitCode.Should().Be(0, mirror.Error);
        string[] lines = Lines(mirror.Out);
        var updates = lines.Select(line => JsonDocument.Parse(line).RootElement).ToList();
        updates.Take(3).Select(u => (Key: u.GetProperty("key").GetString(), Type: u.GetProperty("type").GetString()))
            .Should().BeEquivalentTo([(prefix + "a", "new"), (prefix + "b", "new"), (prefix + "bin", "new")]);
        updates.Single(u => u.GetProperty("key").GetString() == prefix + "b").GetProperty("value").GetString().Should().Be("beta");
        updates.Single(u => u.GetProperty("key").GetString() == prefix + "bin").GetProperty("value_base64").GetString().Should().Be(Convert.ToBase64String([0xff, 0xfe, 0x00]));
        JsonElement change = updates[3];
        change.GetProperty("key").GetString().Should().Be(prefix + "a");
        change.GetProperty("type").GetString().Should().Be("updated");
        change.GetProperty("value").GetString().Should().Be("again");
        change.GetProperty("revision").GetInt64().Should().BeGreaterThan(updates[0].GetProperty("revision").GetInt64());
        mirror.Error.Should().Contain("InSync");
    }

    [Fact]
    public async Task BenchEtcd_Small_LoadsTheKeysAndReportsItsRounds()
    {
        string prefix = $"/aot-bench-{Guid.NewGuid():N}/";

        using ToolProcess bench = await ToolProcess.RunAsync(tool.Binary, RunTimeout, "bench-etcd", "--endpoints", etcd.Endpoint, "--prefix", prefix, "--keys", "400", "--value-size", "32", "--rounds", "2", "--no-etcdctl", "--json");

        bench.ExitCode.Should().Be(0, bench.Error);
        using JsonDocument figures = JsonDocument.Parse(bench.Out);
        JsonElement root = figures.RootElement;
        root.GetProperty("prefix").GetString().Should().Be(prefix);
        root.GetProperty("keys").GetInt64().Should().Be(400);
        root.GetProperty("valueSize").GetInt32().Should().Be(32);
        root.GetProperty("rounds").GetArrayLength().Should().Be(2);
        root.GetProperty("bestSeconds").GetDouble().Should().BePositive();
        root.GetProperty("etcdctl").ValueKind.Should().Be(JsonValueKind.Null, "--no-etcdctl");
        (await RawGateway.RangeAsync(etcd.Endpoint, prefix, 0)).Should().HaveCount(400);
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
