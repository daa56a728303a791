using System.Globalization;
using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary>Edge cases of the options of <c>watchersync mirror</c> that contradict each other.</summary>
public sealed class MirrorCommandOptionsTests
{
    [Fact]
    public async Task Mirror_WithAnEmptyRelay_IsAUsageError_NotAMirrorOfTheDefaultEtcd()
    {
        // `--relay "$RELAY"` with the variable unset: the validator takes --relay as given (and accepts --feed), the
        // command takes the empty value as no relay and mirrors etcd at the default endpoint instead.
        CliResult result = await CliRunner.RunAsync(TimeSpan.FromSeconds(60), "mirror", "--relay", string.Empty, "--feed", "orders", "--count", "--timeout", "2");

        result.Error.Should().NotContain("etcd at", "a mirror asked to read a relay must never read etcd");
        result.ExitCode.Should().Be(2, result.Error);
        result.Error.Should().Contain("--relay");
    }

    [Fact]
    public async Task MirrorRelay_OverHttpsWithItsCaInCacert_AsDocsCliSays_MirrorsTheFeed()
    {
        // docs/cli.md, "watchersync mirror --relay": "--cacert, --cert and --key serve for the relay's TLS".
        string dir = Directory.CreateTempSubdirectory("watchersync-red-mirror").FullName;
        using var stop = new CancellationTokenSource();
        try
        {
            (string cert, string key) = await RelayCommandOptionsTests.WriteSelfSignedAsync(dir);
            string address = $"https://127.0.0.1:{RelayCommandOptionsTests.FreePort()}";
            CliRunner relay = CliRunner.Start(stop.Token, "relay", "--demo", "--demo-keys", "50", "--allow-anonymous", "--listen", address, "--tls-cert", cert, "--tls-key", key);
            await Eventually.True(() => relay.Error.Contains("serving feed", StringComparison.Ordinal) || relay.Completion.IsCompleted, "the relay starts");
            relay.Completion.IsCompleted.Should().BeFalse(relay.Error);

            CliResult mirror = await CliRunner.RunAsync(TimeSpan.FromSeconds(60), "mirror", "--relay", address, "--cacert", cert, "--count", "--timeout", "30");

            mirror.ExitCode.Should().Be(0, mirror.Error);
            int.Parse(mirror.Out.Trim(), CultureInfo.InvariantCulture).Should().BePositive();
        }
        finally
        {
            await stop.CancelAsync();
            Directory.Delete(dir, recursive: true);
        }
    }
}
