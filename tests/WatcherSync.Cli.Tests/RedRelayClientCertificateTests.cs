using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FluentAssertions;
using WatcherSync.Cli.Relay;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary>Certificates at the edges of what <c>watchersync relay --client-ca</c> accepts as a client credential.</summary>
public sealed class RedRelayClientCertificateTests
{
    private const string ClientAuth = "1.3.6.1.5.5.7.3.2";

    [Fact]
    public void ACertificateAuthorityItself_IsNotAClientCredential()
    {
        // An intermediate CA of the same root (one that signs etcd's or other relays' certificates, naming no extended
        // key usage, keyCertSign and cRLSign only) is no client certificate: its key usage does not even allow signing
        // a TLS handshake. Nor is the root itself.
        using RSA caKey = RSA.Create(2048);
        using X509Certificate2 ca = Authority(caKey, "CN=root");
        using RSA interKey = RSA.Create(2048);
        using X509Certificate2 intermediate = IssueCa(ca, interKey, "CN=intermediate");
        using X509Certificate2 client = Issue(ca, "CN=client", [ClientAuth]);

        RelayRun.ChainsTo(client, [ca]).Should().BeTrue("a client certificate of the authority is a credential");
        RelayRun.ChainsTo(intermediate, [ca]).Should().BeFalse("a CA certificate (basic constraints CA, keyCertSign only) is not meant for client authentication");
        RelayRun.ChainsTo(ca, [ca]).Should().BeFalse("the authority's own certificate is not meant for client authentication");
    }

    private static X509Certificate2 Authority(RSA key, string name)
    {
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-10), DateTimeOffset.UtcNow.AddDays(10));
    }

    private static X509Certificate2 IssueCa(X509Certificate2 issuer, RSA key, string name)
    {
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using X509Certificate2 pub = request.Create(issuer, DateTimeOffset.UtcNow.AddDays(-9), DateTimeOffset.UtcNow.AddDays(9), RandomNumberGenerator.GetBytes(8));
        return pub.CopyWithPrivateKey(key);
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string name, string[] eku)
    {
        using RSA key = RSA.Create(2048);
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(Oids(eku), false));
        return request.Create(ca, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddHours(1), RandomNumberGenerator.GetBytes(8));
    }

    private static OidCollection Oids(string[] values)
    {
        var oids = new OidCollection();
        foreach (string value in values)
        {
            oids.Add(new Oid(value));
        }

        return oids;
    }
}
