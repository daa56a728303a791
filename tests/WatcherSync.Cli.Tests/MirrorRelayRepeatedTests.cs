using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary>Edge cases of <c>watchersync mirror --relay</c>'s refusal exit.</summary>
public sealed class MirrorRelayRepeatedTests
{
    [Fact]
    public async Task MirrorRelay_GivenTwice_IsAUsageError_NotACrash()
    {
        // docs/cli.md: --relay takes the URLs comma-separated; a user who repeats the option instead gets a usage error
        // like any other repeated option (--feed, --token, --endpoints), exit code 2.
        CliResult mirror = await CliProcess.RunAsync(TimeSpan.FromSeconds(30), ["mirror", "--relay", "http://127.0.0.1:1", "--relay", "http://127.0.0.1:2", "--timeout", "1"]);

        mirror.Error.Should().NotContain("Unhandled exception");
        mirror.ExitCode.Should().Be(2, mirror.Error);
    }

    [Fact]
    public async Task MirrorRelay_TheSameRelayGivenTwice_Refused_StillEndsAtOnceWithExitCode1()
    {
        // A script that builds its comma-separated --relay list from two sources may name one relay twice.
        string address = $"http://127.0.0.1:{RelayCommandTests.FreePort()}";
        using var stop = new CancellationTokenSource();
        CliRunner relay = CliRunner.Start(stop.Token, "relay", "--demo", "--demo-keys", "10", "--token", "s3cret", "--listen", address);
        try
        {
            await Eventually.True(() => relay.Error.Contains("serving feed", StringComparison.Ordinal) || relay.Completion.IsCompleted, "the relay starts");
            relay.Completion.IsCompleted.Should().BeFalse(relay.Error);

            // --timeout is far beyond the test's deadline: only the refusal can end the mirror in time.
            CliResult mirror = await CliProcess.RunAsync(TimeSpan.FromSeconds(45), ["mirror", "--relay", address + "," + address, "--token", "guess", "--count", "--timeout", "600"]);

            mirror.ExitCode.Should().Be(1, mirror.Error);
            mirror.Error.Should().Contain("The bearer token was not accepted");
        }
        finally
        {
            await stop.CancelAsync();
        }

        await Eventually.Within(relay.Completion, "the relay stops on Ctrl+C");
    }
}
