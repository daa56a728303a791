using FluentAssertions;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary>Attacks on the options of <c>watchersync mirror</c> that contradict each other.</summary>
public sealed class RedMirrorCommandTests
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
}
