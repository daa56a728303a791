using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary>Edge cases of <c>watchersync relay --listen</c> and the options that go with it.</summary>
public sealed class RelayCommandOptionsTests
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

    [Fact]
    public async Task Relay_OnAnHttpListenAddressWithACertificate_ServesWhatTheAddressSays()
    {
        string dir = Directory.CreateTempSubdirectory("watchersync-red-relay").FullName;
        using var stop = new CancellationTokenSource();
        try
        {
            (string cert, string key) = await WriteSelfSignedAsync(dir);
            string address = $"http://127.0.0.1:{FreePort()}";
            CliRunner relay = CliRunner.Start(stop.Token, "relay", "--demo", "--demo-keys", "50", "--allow-anonymous", "--listen", address, "--tls-cert", cert, "--tls-key", key);
            await Eventually.True(() => relay.Error.Contains("serving feed", StringComparison.Ordinal) || relay.Completion.IsCompleted, "the relay starts or refuses");

            if (relay.Completion.IsCompleted)
            {
                // Refusing the contradiction (http:// with a certificate) is as good as serving h2c.
                (await relay.Completion).Should().Be(2, relay.Error);
                return;
            }

            // Clients (mirror --relay http://...) speak h2c to an http:// address; TLS there is a relay they cannot use.
            relay.Error.Should().Contain($"on {address}", "an http:// --listen serves h2c, or the pair is refused as a usage error");
        }
        finally
        {
            await stop.CancelAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Relay_WithAnEmptyToken_IsAUsageError_AsAreNoCredentials()
    {
        // `--token "$RELAY_TOKEN"` with the variable unset: an empty bearer token is no credential (it admits whoever
        // sends an empty one, or no one), which is what "give --token, --client-ca or --allow-anonymous" is there to catch.
        using var stop = new CancellationTokenSource();
        CliRunner relay = CliRunner.Start(stop.Token, "relay", "--demo", "--demo-keys", "50", "--token", string.Empty, "--listen", $"http://127.0.0.1:{FreePort()}");
        try
        {
            await Eventually.True(() => relay.Error.Contains("serving feed", StringComparison.Ordinal) || relay.Completion.IsCompleted, "the relay starts or refuses");

            relay.Completion.IsCompleted.Should().BeTrue("an empty --token is no credential: " + relay.Error);
            (await relay.Completion).Should().Be(2, relay.Error);
        }
        finally
        {
            await stop.CancelAsync();
        }
    }

    internal static async Task<(string Cert, string Key)> WriteSelfSignedAsync(string dir)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        string cert = Path.Combine(dir, "relay.pem");
        string key = Path.Combine(dir, "relay-key.pem");
        await File.WriteAllTextAsync(cert, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(key, rsa.ExportPkcs8PrivateKeyPem());
        return (cert, key);
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
