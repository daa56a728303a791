using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FluentAssertions;
using WatcherSync.Cli.Relay;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary>
/// What <c>watchersync relay --client-ca</c> accepts as a client's credential: a certificate issued under one of the
/// authorities and meant for client authentication, not any certificate the authority ever signed.
/// </summary>
public sealed class RelayClientCertificateTests
{
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";
    private const string ServerAuth = "1.3.6.1.5.5.7.3.1";

    [Fact]
    public void AServerCertificateOfTheSameAuthority_IsNotAClientCredential()
    {
        using RSA caKey = RSA.Create(2048);
        using X509Certificate2 ca = Authority(caKey, "CN=relay test CA");
        using X509Certificate2 server = Issue(ca, "CN=another relay", ServerAuth);

        RelayRun.ChainsTo(server, [ca]).Should().BeFalse("a certificate issued for serverAuth only (another relay's, say) does not authenticate a client");
    }

    [Fact]
    public void AClientCertificateOfTheAuthority_IsAccepted_AndOneOfAnotherAuthorityIsNot()
    {
        using RSA caKey = RSA.Create(2048);
        using X509Certificate2 ca = Authority(caKey, "CN=relay test CA");
        using RSA otherKey = RSA.Create(2048);
        using X509Certificate2 other = Authority(otherKey, "CN=another CA");
        using X509Certificate2 client = Issue(ca, "CN=client", ClientAuth);
        using X509Certificate2 stranger = Issue(other, "CN=stranger", ClientAuth);
        using X509Certificate2 anyPurpose = Issue(ca, "CN=no usage named", eku: null);

        RelayRun.ChainsTo(client, [ca]).Should().BeTrue();
        RelayRun.ChainsTo(anyPurpose, [ca]).Should().BeTrue("a certificate that names no extended key usage is valid for any purpose (RFC 5280)");
        RelayRun.ChainsTo(stranger, [ca]).Should().BeFalse();
    }

    private static X509Certificate2 Authority(RSA key, string name)
    {
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string name, string? eku)
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        if (eku is not null)
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(eku)], false));
        }

        return request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1), RandomNumberGenerator.GetBytes(8));
    }
}
