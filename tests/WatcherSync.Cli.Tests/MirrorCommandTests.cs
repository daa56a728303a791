using System.Globalization;
using System.Text;
using System.Text.Json;
using FluentAssertions;
using WatcherSync.Etcd;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Cli.Tests;

[Collection(CliEtcdCollection.Name)]
public sealed class MirrorCommandTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    private readonly EtcdFixture _etcd;
    private readonly string _prefix = $"/cli-{Guid.NewGuid():N}/";

    public MirrorCommandTests(EtcdFixture etcd)
    {
        _etcd = etcd;
    }

    [Fact]
    public async Task Count_LoadedPrefix_PrintsOnlyTheNumberOfKeys()
    {
        await RawGateway.PutManyAsync(_etcd.Endpoint, Enumerable.Range(0, 1234).Select(i => ($"{_prefix}k{i:D5}", Encoding.UTF8.GetBytes($"v{i}"))));
        await RawGateway.PutManyAsync(_etcd.Endpoint, [($"{_prefix[..^1]}-outside", "x"u8.ToArray())]);

        CliResult result = await CliRunner.RunAsync(Limit, "mirror", "--endpoints", _etcd.Endpoint, "--prefix", _prefix, "--count");

        result.ExitCode.Should().Be(0, result.Error);
        result.Out.Should().Be("1234" + Environment.NewLine);
        result.Error.Should().BeEmpty();
    }

    [Fact]
    public async Task JsonLines_ListThenWatch_EveryUpdateAsAJsonLine_AndCtrlCEndsCleanly()
    {
        await using var client = new EtcdBackendClient(_etcd.Options());
        await client.CreateAsync(new KVPair(new PathKey(_prefix + "a"), "alpha"u8.ToArray()));
        await client.CreateAsync(new KVPair(new PathKey(_prefix + "bin"), new byte[] { 0xff, 0xfe, 0x00 }));
        using var interrupt = new CancellationTokenSource();
        CliRunner runner = CliRunner.Start(interrupt.Token, "mirror", "--endpoints", _etcd.Endpoint, "--prefix", _prefix);
        await Eventually.True(() => runner.Error.Contains("InSync", StringComparison.Ordinal), "the mirror reports InSync on stderr", Limit);

        KVPair updated = await client.UpdateAsync(new KVPair(new PathKey(_prefix + "a"), "älpha 2"u8.ToArray()));
        KVPair deleted = await client.DeleteAsync(new PathKey(_prefix + "bin"));
        await Eventually.True(() => Lines(runner.Out).Count == 4, "the list and both changes are printed", Limit);
        await interrupt.CancelAsync();
        int exitCode = await Eventually.Within(runner.Completion, "the mirror ends after Ctrl+C", Limit);

        exitCode.Should().Be(0, runner.Error);
        List<JsonElement> lines = Lines(runner.Out);
        lines.Should().HaveCount(4, "the deletes a stopping syncer reports are not printed");
        lines[0].GetProperty("key").GetString().Should().Be(_prefix + "a");
        lines[0].GetProperty("type").GetString().Should().Be("new");
        lines[0].GetProperty("value").GetString().Should().Be("alpha");
        lines[1].GetProperty("key").GetString().Should().Be(_prefix + "bin");
        lines[1].TryGetProperty("value", out _).Should().BeFalse("the bytes are not UTF-8");
        lines[1].GetProperty("value_base64").GetString().Should().Be("//4A");
        lines[2].GetProperty("type").GetString().Should().Be("updated");
        lines[2].GetProperty("value").GetString().Should().Be("älpha 2");
        lines[2].GetProperty("revision").GetInt64().Should().Be(long.Parse(updated.Revision!, CultureInfo.InvariantCulture));
        lines[3].GetProperty("type").GetString().Should().Be("deleted");
        lines[3].GetProperty("key").GetString().Should().Be(_prefix + "bin");
        lines[3].GetProperty("revision").GetInt64().Should().BeGreaterThan(long.Parse(deleted.Revision!, CultureInfo.InvariantCulture));
        runner.Error.Should().Contain("status: ResyncInProgress").And.Contain("status: InSync (2 keys");
    }

    [Fact]
    public async Task Table_NotATerminal_PlainTableOnceInSyncAndAtTheEnd()
    {
        await RawGateway.PutManyAsync(_etcd.Endpoint, [($"{_prefix}pods/p1", "Running"u8.ToArray())]);
        using var interrupt = new CancellationTokenSource();
        CliRunner runner = CliRunner.Start(interrupt.Token, "mirror", "--endpoints", _etcd.Endpoint, "--prefix", _prefix, "--table");
        await Eventually.True(() => runner.Out.Contains("InSync, 1 keys", StringComparison.Ordinal), "the table is printed once in sync", Limit);

        await interrupt.CancelAsync();
        int exitCode = await Eventually.Within(runner.Completion, "the mirror ends after Ctrl+C", Limit);

        exitCode.Should().Be(0, runner.Error);
        runner.Out.Should().Contain($"{_prefix}pods/p1").And.Contain("Running").And.NotContain("\u001b");
    }

    [Fact]
    public async Task UnreachableEndpoint_OneClearLine_NonZeroExit_NoStackTrace()
    {
        string endpoint = $"http://127.0.0.1:{EtcdProcess.FreePort()}";

        CliResult result = await CliRunner.RunAsync(Limit, "mirror", "--endpoints", endpoint, "--prefix", _prefix);

        result.ExitCode.Should().Be(1);
        result.ErrorLines.Should().ContainSingle().Which.Should().StartWith("watchersync: ").And.Contain(endpoint).And.Contain("unreachable");
        result.Out.Should().BeEmpty();
    }

    [Fact]
    public async Task UnreachableEndpoint_Verbose_AddsTheStackTrace()
    {
        string endpoint = $"http://127.0.0.1:{EtcdProcess.FreePort()}";

        CliResult result = await CliRunner.RunAsync(Limit, "mirror", "--endpoints", endpoint, "--count", "--verbose");

        result.ExitCode.Should().Be(1);
        result.ErrorLines[0].Should().Contain("unreachable");
        result.Error.Should().Contain("   at ");
    }

    private static List<JsonElement> Lines(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.Clone())];
}
