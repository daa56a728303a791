using System.Net;
using System.Net.Sockets;
using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary>Attacks on <c>watchersync relay --listen</c> and the options that go with it.</summary>
public sealed class RedRelayCommandTests
{
    [Fact]
    public async Task Relay_WithAHostNameListenAddress_IsAUsageError_BeforeEtcdIsContacted()
    {
        // Nothing listens on this etcd endpoint: a run that gets as far as etcd says so, with exit code 1.
        string nowhere = $"http://127.0.0.1:{FreePort()}";

        CliResult result = await CliRunner.RunAsync(TimeSpan.FromSeconds(60), "relay", "--allow-anonymous", "--listen", "http://relay.example.com:5473", "--endpoints", nowhere, "--request-timeout", "1");

        result.Error.Should().Contain("--listen", "a --listen host the relay cannot bind is a mistake on the command line, found before anything runs");
        result.ExitCode.Should().Be(2, result.Error);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
