using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace WatcherSync.Etcd.Tests.Infrastructure;

/// <summary>A certificate authority, a server certificate for 127.0.0.1 and a client certificate, made in-process and written as PEM.</summary>
public sealed class EtcdTls : IDisposable
{
    private readonly string _dir;

    /// <param name="intermediate">
    /// Whether the server certificate is signed by an intermediate CA (signed by <see cref="Ca"/>); the server then
    /// sends the intermediate with its certificate, and clients trust only the root.
    /// </param>
    /// <param name="serverAuthUsage">
    /// Whether the server certificate carries the serverAuth usage; without it, it is a client-only certificate of the
    /// cluster CA, which no client may accept as a member.
    /// </param>
    public EtcdTls(bool intermediate = false, bool serverAuthUsage = true)
    {
        _dir = Path.Combine(Path.GetTempPath(), $"watchersync-tls-{Guid.NewGuid():N}");
        Directory.CreateDirectory(_dir);
        using RSA caKey = RSA.Create(2048);
        Ca = CreateAuthority("CN=WatcherSync Test CA", caKey);
        using X509Certificate2? middle = intermediate ? Issue("CN=WatcherSync Test Intermediate CA", Ca, server: false, out RSA middleKey, authority: true) : null;
        using X509Certificate2 server = Issue("CN=127.0.0.1", middle ?? Ca, server: true, out RSA serverKey, serverAuthUsage: serverAuthUsage);
        using (serverKey)
        {
            // etcd 3.4's gateway dials its own gRPC port with the server certificate, so it needs client auth too.
            CaFile = Write("ca.pem", Ca.ExportCertificatePem());
            ServerCertFile = Write("server.pem", server.ExportCertificatePem() + (middle is null ? string.Empty : "\n" + middle.ExportCertificatePem()));
            ServerKeyFile = Write("server-key.pem", serverKey.ExportPkcs8PrivateKeyPem());
        }

        Client = Issue("CN=root", Ca, server: false, out RSA clientKey);
        clientKey.Dispose();
    }

    public X509Certificate2 Ca { get; }

    /// <summary>Gets the client certificate with its private key.</summary>
    public X509Certificate2 Client { get; }

    public string CaFile { get; }

    public string ServerCertFile { get; }

    public string ServerKeyFile { get; }

    /// <summary>Creates a CA that signed nothing the server uses.</summary>
    public static X509Certificate2 CreateStrangerAuthority()
    {
        using RSA key = RSA.Create(2048);
        return CreateAuthority("CN=Stranger CA", key);
    }

    public HttpMessageHandler CreateHandler()
    {
        X509Certificate2 ca = Ca;
        var handler = new SocketsHttpHandler { UseProxy = false };
        handler.SslOptions.ClientCertificates = [Client];
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, sent, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            for (int i = 0; i < (sent?.ChainElements.Count ?? 0); i++)
            {
                chain.ChainPolicy.ExtraStore.Add(sent!.ChainElements[i].Certificate);
            }

            return cert is X509Certificate2 c && chain.Build(c);
        };
        return handler;
    }

    public void Dispose()
    {
        Ca.Dispose();
        Client.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static X509Certificate2 CreateAuthority(string subject, RSA key)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
    }

    private static X509Certificate2 Issue(string subject, X509Certificate2 ca, bool server, out RSA key, bool authority = false, bool serverAuthUsage = true)
    {
        key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        if (authority)
        {
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
            request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
            request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
            byte[] caSerial = RandomNumberGenerator.GetBytes(12);
            // Between the root's validity (7 days) and that of what it signs (6 days).
            using X509Certificate2 issuedCa = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(6.5), caSerial);
            return issuedCa.CopyWithPrivateKey(key);
        }

        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        var usages = new OidCollection { new Oid("1.3.6.1.5.5.7.3.2") };
        if (server)
        {
            if (serverAuthUsage)
            {
                usages.Add(new Oid("1.3.6.1.5.5.7.3.1"));
            }

            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(usages, false));
        byte[] serial = RandomNumberGenerator.GetBytes(12);
        using X509Certificate2 issued = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(6), serial);
        return issued.CopyWithPrivateKey(key);
    }

    private string Write(string name, string pem)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, pem);
        return path;
    }
}
