using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using Xunit;

namespace WatcherSync.Cli.Tests;

[Collection(CliEtcdCollection.Name)]
public sealed class BenchEtcdCommandTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    private readonly EtcdFixture _etcd;

    public BenchEtcdCommandTests(EtcdFixture etcd)
    {
        _etcd = etcd;
    }

    [Fact]
    public async Task BenchEtcd_LoadsKeysAndTimesTheMirrorToInSync_ForEveryRound()
    {
        string prefix = $"/bench-{Guid.NewGuid():N}/";

        CliResult result = await CliRunner.RunAsync(Limit, "bench-etcd", "--endpoints", _etcd.Endpoint, "--prefix", prefix, "--keys", "500", "--value-size", "32", "--rounds", "2");

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Contain($"loaded 500 keys of 32 bytes under {prefix}")
            .And.Contain("round 1: mirror to InSync: 500 keys in ")
            .And.Contain("round 2: mirror to InSync: 500 keys in ")
            .And.Contain("mirror to InSync (best of 2)");
        (await RawGateway.RangeAsync(_etcd.Endpoint, prefix, 0)).Should().HaveCount(500);
    }

    [Fact]
    public async Task BenchEtcd_SaysOnStderrWhatItIsDoing_WhileItLoadsAndTimes()
    {
        // Loading 100,000 keys takes about 25 s: progress goes to stderr (stdout keeps the results alone).
        string prefix = $"/bench-{Guid.NewGuid():N}/";

        CliResult result = await CliRunner.RunAsync(Limit, "bench-etcd", "--endpoints", _etcd.Endpoint, "--prefix", prefix, "--keys", "300", "--rounds", "1");

        result.ExitCode.Should().Be(0, result.Error);
        result.Error.Should().Contain($"loading 300 keys under {prefix}").And.Contain("timing round 1 of 1");
        result.Out.Should().NotContain("loading 300 keys");
    }

    [Fact]
    public async Task BenchEtcd_EmptyPrefixWithKeysToLoad_RefusedBeforeTouchingEtcd()
    {
        CliResult result = await CliRunner.RunAsync(Limit, "bench-etcd", "--endpoints", _etcd.Endpoint, "--prefix", "", "--keys", "10");

        result.ExitCode.Should().Be(2);
        result.ErrorLines.Should().ContainSingle().Which.Should().Contain("--prefix must not be empty");
    }
}
