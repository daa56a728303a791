using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary><c>watchersync relay --demo</c> served on loopback and consumed by <c>watchersync mirror --relay</c>, in-process.</summary>
public sealed class RelayCommandTests
{
    [Fact]
    public async Task Relay_OverTheDemoStore_IsMirroredByMirrorRelay()
    {
        string address = $"http://127.0.0.1:{FreePort()}";
        using var stop = new CancellationTokenSource();
        CliRunner relay = CliRunner.Start(stop.Token, "relay", "--demo", "--demo-keys", "500", "--allow-anonymous", "--listen", address);
        try
        {
            await Eventually.True(() => relay.Error.Contains("serving feed", StringComparison.Ordinal) || relay.Completion.IsCompleted, "the relay starts");
            relay.Completion.IsCompleted.Should().BeFalse(relay.Error);

            CliResult mirror = await CliRunner.RunAsync(TimeSpan.FromSeconds(60), "mirror", "--relay", address, "--count", "--timeout", "30");

            mirror.ExitCode.Should().Be(0, mirror.Error);
            int.Parse(mirror.Out.Trim(), CultureInfo.InvariantCulture).Should().BePositive();
        }
        finally
        {
            await stop.CancelAsync();
        }

        int exit = await Eventually.Within(relay.Completion, "the relay stops on Ctrl+C");
        exit.Should().Be(0, relay.Error);
    }

    [Fact]
    public async Task Relay_AsTheReadmeWritesIt_WithTheDefaultListenAddress_Serves()
    {
        // README: `watchersync relay --demo --allow-anonymous`, no --listen: the default address must be accepted.
        using var stop = new CancellationTokenSource();
        CliRunner relay = CliRunner.Start(stop.Token, "relay", "--demo", "--demo-keys", "100", "--allow-anonymous");
        try
        {
            await Eventually.True(() => relay.Error.Contains("serving feed", StringComparison.Ordinal) || relay.Completion.IsCompleted, "the relay starts");
            relay.Completion.IsCompleted.Should().BeFalse(relay.Error);
            relay.Error.Should().Contain("http://127.0.0.1:5473");
        }
        finally
        {
            await stop.CancelAsync();
        }

        int exit = await Eventually.Within(relay.Completion, "the relay stops on Ctrl+C");
        exit.Should().Be(0, relay.Error);
    }

    [Theory]
    [InlineData("127.0.0.1:5473")]
    [InlineData("http://127.0.0.1")]
    [InlineData("ftp://127.0.0.1:5473")]
    [InlineData("not a url")]
    public async Task Relay_WithAListenAddressWithoutSchemeOrPort_IsAUsageError(string listen)
    {
        CliResult result = await CliRunner.RunAsync(TimeSpan.FromSeconds(30), "relay", "--demo", "--allow-anonymous", "--listen", listen);

        result.ExitCode.Should().Be(2, result.Error);
        result.Error.Should().Contain("--listen");
    }

    [Fact]
    public async Task Relay_OnHttpsWithoutACertificate_IsAUsageError()
    {
        CliResult result = await CliRunner.RunAsync(TimeSpan.FromSeconds(30), "relay", "--demo", "--allow-anonymous", "--listen", "https://127.0.0.1:5473");

        result.ExitCode.Should().Be(2, result.Error);
        result.Error.Should().Contain("needs --tls-cert and --tls-key");
    }

    [Fact]
    public async Task Relay_WithNoWayToAuthenticateClients_IsAUsageError()
    {
        CliResult result = await CliRunner.RunAsync(TimeSpan.FromSeconds(30), "relay", "--demo", "--listen", $"http://127.0.0.1:{FreePort()}");

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("--allow-anonymous");
    }

    [Fact]
    public async Task Mirror_WithAMalformedRelayAddress_IsAUsageError()
    {
        CliResult result = await CliRunner.RunAsync(TimeSpan.FromSeconds(30), "mirror", "--relay", "ftp://nowhere", "--count");

        result.ExitCode.Should().Be(2);
        result.Error.Should().Contain("--relay");
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
