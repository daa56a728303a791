using System.Text.Json;
using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary><c>--json</c> on demo and bench-etcd, run as a child process: one JSON document on stdout, the human text on stderr.</summary>
[Collection(CliEtcdCollection.Name)]
public sealed class JsonOutputTests(EtcdFixture etcd)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Demo_WithJson_PrintsItsResultAsOneJsonDocument_AndTheSummaryOnStderr()
    {
        CliResult result = await CliProcess.RunAsync(Limit, "demo", "--duration", "1", "--keys", "200", "--writers", "2", "--sink-delay", "2", "--json");

        result.ExitCode.Should().Be(0, result.Error);
        using JsonDocument json = JsonDocument.Parse(result.Out);
        JsonElement root = json.RootElement;
        root.GetProperty("passed").GetBoolean().Should().BeTrue();
        root.GetProperty("settings").GetProperty("keys").GetInt32().Should().Be(200);
        root.GetProperty("mirror").GetProperty("matches").GetBoolean().Should().BeTrue();
        root.GetProperty("mirror").GetProperty("held").GetInt64().Should().BeGreaterThan(0);
        root.GetProperty("writes").GetProperty("total").GetInt64().Should().BeGreaterThan(0);
        root.GetProperty("seconds").GetProperty("total").GetDouble().Should().BeGreaterThan(0);
        result.Error.Should().Contain("mirror matches datastore", "the human summary moves to stderr");
    }

    [Fact]
    public async Task BenchEtcd_WithJson_PrintsItsFiguresAsOneJsonDocument_AndTheProgressOnStderr()
    {
        string prefix = $"/bench-json-{Guid.NewGuid():N}/";

        CliResult result = await CliProcess.RunAsync(Limit, "bench-etcd", "--endpoints", etcd.Endpoint, "--prefix", prefix, "--keys", "100", "--rounds", "2", "--no-etcdctl", "--json");

        result.ExitCode.Should().Be(0, result.Error);
        using JsonDocument json = JsonDocument.Parse(result.Out);
        JsonElement root = json.RootElement;
        root.GetProperty("prefix").GetString().Should().Be(prefix);
        root.GetProperty("keys").GetInt64().Should().Be(100);
        root.GetProperty("rounds").EnumerateArray().Should().HaveCount(2).And.OnlyContain(r => r.GetDouble() > 0);
        root.GetProperty("bestSeconds").GetDouble().Should().BeGreaterThan(0);
        root.GetProperty("keysPerSecond").GetDouble().Should().BeGreaterThan(0);
        root.GetProperty("etcdctl").ValueKind.Should().Be(JsonValueKind.Null, "--no-etcdctl");
        result.Error.Should().Contain("round 2: mirror to InSync: 100 keys");
    }
}
