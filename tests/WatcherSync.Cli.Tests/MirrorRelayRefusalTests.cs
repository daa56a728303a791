using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary>
/// <c>watchersync mirror --relay</c>, run as a child process against a real relay: a refusal ends it at once with the
/// relay's reason and exit code 1, long before --timeout; a relay that is down is retried until --timeout.
/// </summary>
public sealed class MirrorRelayRefusalTests
{
    [Theory]
    [InlineData("--token", "guess", "The bearer token was not accepted")]
    [InlineData("--feed", "no-such-feed", "no feed 'no-such-feed'")]
    [InlineData("--prefix", "/nowhere/", "no prefix under '/nowhere/'")]
    public async Task MirrorRelay_Refused_EndsAtOnceWithTheReason_ExitCode1(string option, string value, string reason)
    {
        string address = $"http://127.0.0.1:{RelayCommandTests.FreePort()}";
        using var stop = new CancellationTokenSource();
        CliRunner relay = CliRunner.Start(stop.Token, "relay", "--demo", "--demo-keys", "10", "--token", "s3cret", "--listen", address);
        try
        {
            await Eventually.True(() => relay.Error.Contains("serving feed", StringComparison.Ordinal) || relay.Completion.IsCompleted, "the relay starts");
            relay.Completion.IsCompleted.Should().BeFalse(relay.Error);
            string[] credentials = option == "--token" ? [] : ["--token", "s3cret"];

            // --timeout is far beyond the test's deadline: only a refusal can end the mirror in time.
            CliResult mirror = await CliProcess.RunAsync(TimeSpan.FromSeconds(30), ["mirror", "--relay", address, option, value, .. credentials, "--count", "--timeout", "600"]);

            mirror.ExitCode.Should().Be(1, mirror.Error);
            mirror.ErrorLines.Should().ContainSingle().Which.Should().Contain(reason).And.Contain(address).And.NotContain("StatusCode=").And.NotContain("--timeout");
        }
        finally
        {
            await stop.CancelAsync();
        }

        await Eventually.Within(relay.Completion, "the relay stops on Ctrl+C");
    }

    [Fact]
    public async Task MirrorRelay_RelayDown_IsRetriedUntilTheTimeout()
    {
        string address = $"http://127.0.0.1:{RelayCommandTests.FreePort()}";

        CliResult mirror = await CliProcess.RunAsync(TimeSpan.FromSeconds(30), "mirror", "--relay", address, "--count", "--timeout", "2");

        mirror.ExitCode.Should().Be(1, mirror.Error);
        mirror.Error.Should().Contain("was not in sync after 2 s", "a relay that is down may come back: it is not a refusal");
    }
}
