using FluentAssertions;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary>Mistakes on the command line: one clear line on stderr, exit code 2, nothing run.</summary>
public sealed class CommandLineTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("--bogus", "demo --bogus")]
    [InlineData("--keys expects a whole number, not 'many'", "demo --keys many")]
    [InlineData("--keys must be at least 1, not 0", "demo --keys 0")]
    [InlineData("--duration must be at least 0, not -3", "demo --duration -3")]
    [InlineData("--compact-every expects a number", "demo --compact-every soon")]
    [InlineData("'launch'", "launch")]
    [InlineData("--cert and --key go together", "mirror --cert client.pem")]
    [InlineData("--table and --count do not go together", "mirror --table --count")]
    public async Task BadCommandLine_OneClearLineAndExitCode2(string expected, string commandLine)
    {
        CliResult result = await CliRunner.RunAsync(Limit, commandLine.Split(' '));

        result.ExitCode.Should().Be(2);
        result.ErrorLines.Should().ContainSingle().Which.Should().StartWith("watchersync: ").And.Contain(expected).And.Contain("--help");
        result.Out.Should().BeEmpty();
    }

    [Theory]
    [InlineData("--endpoints: 'localhost:2379' is not an absolute http:// or https:// URL", "mirror --endpoints localhost:2379")]
    [InlineData("--user needs a password", "mirror --user root")]
    [InlineData("--cacert: cannot read CA certificates", "mirror --cacert /nonexistent/ca.pem")]
    public async Task BadEtcdSettings_OneClearLineAndExitCode2_BeforeAnyConnection(string expected, string commandLine)
    {
        CliResult result = await CliRunner.RunAsync(Limit, commandLine.Split(' '));

        result.ExitCode.Should().Be(2);
        result.ErrorLines.Should().ContainSingle().Which.Should().StartWith("watchersync: ").And.Contain(expected);
    }

    [Fact]
    public async Task Help_ListsTheCommands_ExitCode0()
    {
        CliResult result = await CliRunner.RunAsync(Limit, "--help");

        result.ExitCode.Should().Be(0);
        result.Out.Should().Contain("demo").And.Contain("mirror");
        result.Error.Should().BeEmpty();
    }

    [Theory]
    [InlineData("--endpoints", "mirror", "--relay", "http://127.0.0.1:5473", "--endpoints", "http://127.0.0.1:2379", "--count")]
    [InlineData("--user", "mirror", "--relay", "http://127.0.0.1:5473", "--user", "root:pw", "--count")]
    [InlineData("--feed goes with --relay", "mirror", "--feed", "felix", "--count")]
    [InlineData("--token goes with --relay", "mirror", "--token", "t", "--count")]
    [InlineData("--endpoints", "relay", "--demo", "--allow-anonymous", "--endpoints", "http://127.0.0.1:2379")]
    [InlineData("--demo-keys goes with --demo", "relay", "--allow-anonymous", "--demo-keys", "10")]
    public async Task OptionsThatContradictEachOther_AreAUsageError(string message, params string[] args)
    {
        CliResult result = await CliRunner.RunAsync(TimeSpan.FromSeconds(30), args);

        result.ExitCode.Should().Be(2, result.Error);
        result.Error.Should().Contain(message);
    }
}
