using System.Diagnostics;
using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary>Findings of the CLI review, each run as a user's shell runs the tool.</summary>
public sealed class ReviewFindingTests
{
    [Fact]
    public async Task ClosedStdout_SaysSo_InsteadOfAccessDenied()
    {
        var start = new ProcessStartInfo("bash")
        {
            ArgumentList = { "-c", $"dotnet exec '{CliProcess.Tool}' --help >&-; echo \"exit $?\" >&2" },
            RedirectStandardError = true,
        };
        using Process shell = Process.Start(start)!;
        Task<string> error = shell.StandardError.ReadToEndAsync();
        await Eventually.Within(shell.WaitForExitAsync(), "the shell ends");

        string text = await error;
        text.Should().Contain("standard output is closed").And.NotContain("Access to the path is denied").And.Contain("exit 1");
    }

    [Fact]
    public async Task Relay_OnAnIpv4MappedListenAddress_ServesAMirror()
    {
        int port = RelayCommandTests.FreePort();
        using var stop = new CancellationTokenSource();
        CliRunner relay = CliRunner.Start(stop.Token, "relay", "--demo", "--demo-keys", "10", "--allow-anonymous", "--listen", $"http://[::ffff:127.0.0.1]:{port}");
        try
        {
            await Eventually.True(() => relay.Error.Contains("serving feed", StringComparison.Ordinal) || relay.Completion.IsCompleted, "the relay starts");
            relay.Completion.IsCompleted.Should().BeFalse(relay.Error);

            CliResult mirror = await CliProcess.RunAsync(TimeSpan.FromSeconds(60), "mirror", "--relay", $"http://127.0.0.1:{port}", "--count", "--timeout", "30");

            mirror.ExitCode.Should().Be(0, mirror.Error);
            int.Parse(mirror.Out.Trim(), System.Globalization.CultureInfo.InvariantCulture).Should().BePositive();
        }
        finally
        {
            await stop.CancelAsync();
        }

        await Eventually.Within(relay.Completion, "the relay stops on Ctrl+C");
    }
}
