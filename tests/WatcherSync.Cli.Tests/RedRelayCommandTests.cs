using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary><c>watchersync relay</c> given credentials it can never check.</summary>
public sealed class RedRelayCommandTests
{
    [Fact]
    public async Task Relay_WithClientCaOnAnHttpListenAddress_IsAUsageError_AsAreNoCredentials()
    {
        // Plain h2c has no TLS handshake, so no client ever presents a certificate: --client-ca alone admits no one,
        // which is what "give --token, --client-ca or --allow-anonymous" (exit code 2) is there to catch.
        string dir = Directory.CreateTempSubdirectory("watchersync-red-clientca").FullName;
        using var stop = new CancellationTokenSource();
        try
        {
            using RSA key = RSA.Create(2048);
            var request = new CertificateRequest("CN=client CA", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            using X509Certificate2 ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
            string caFile = Path.Combine(dir, "client-ca.pem");
            await File.WriteAllTextAsync(caFile, ca.ExportCertificatePem());

            CliRunner relay = CliRunner.Start(stop.Token, "relay", "--demo", "--demo-keys", "50", "--client-ca", caFile, "--listen", $"http://127.0.0.1:{RelayCommandOptionsTests.FreePort()}");
            await Eventually.True(() => relay.Error.Contains("serving feed", StringComparison.Ordinal) || relay.Completion.IsCompleted, "the relay starts or refuses");

            relay.Completion.IsCompleted.Should().BeTrue("--client-ca on an http:// --listen is no credential any client can present: " + relay.Error);
            (await relay.Completion).Should().Be(2, relay.Error);
        }
        finally
        {
            await stop.CancelAsync();
            Directory.Delete(dir, recursive: true);
        }
    }
}
