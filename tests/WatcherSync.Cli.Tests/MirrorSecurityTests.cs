using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary>The auth and TLS flags, each against an etcd of its own.</summary>
public sealed class MirrorSecurityTests
{
    private const string Password = "cli-s3cret";

    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task WrongPassword_OneClearLine_ExitCode1_PasswordNotShown()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        await EnableAuthAsync(etcd.ClientUrl);

        CliResult wrong = await CliRunner.RunAsync(Limit, "mirror", "--endpoints", etcd.ClientUrl, "--user", "root", "--password", "not-the-password", "--count");
        CliResult none = await CliRunner.RunAsync(Limit, "mirror", "--endpoints", etcd.ClientUrl, "--count");
        CliResult right = await CliRunner.RunAsync(Limit, "mirror", "--endpoints", etcd.ClientUrl, "--user", $"root:{Password}", "--count");

        wrong.ExitCode.Should().Be(1);
        wrong.ErrorLines.Should().ContainSingle().Which.Should().Contain("rejected the username or password").And.NotContain("not-the-password");
        none.ExitCode.Should().Be(1);
        none.ErrorLines.Should().ContainSingle().Which.Should().Contain("requires authentication").And.Contain("--user");
        right.ExitCode.Should().Be(0, right.Error);
        right.Out.Trim().Should().Be("0");
    }

    [Fact]
    public async Task Tls_CaCertAndClientCertificateFiles_MirrorWorks()
    {
        using var tls = new EtcdTls();
        await using EtcdProcess etcd = await EtcdProcess.StartAsync(tls);
        string dir = Directory.CreateTempSubdirectory("watchersync-cli-tls").FullName;
        try
        {
            string cert = Path.Combine(dir, "client.pem");
            string key = Path.Combine(dir, "client-key.pem");
            await File.WriteAllTextAsync(cert, tls.Client.ExportCertificatePem());
            using (RSA rsa = tls.Client.GetRSAPrivateKey()!)
            {
                await File.WriteAllTextAsync(key, rsa.ExportPkcs8PrivateKeyPem());
            }

            CliResult trusted = await CliRunner.RunAsync(Limit, "mirror", "--endpoints", etcd.ClientUrl, "--cacert", tls.CaFile, "--cert", cert, "--key", key, "--count");
            CliResult untrusted = await CliRunner.RunAsync(Limit, "mirror", "--endpoints", etcd.ClientUrl, "--cert", cert, "--key", key, "--count");

            trusted.ExitCode.Should().Be(0, trusted.Error);
            trusted.Out.Trim().Should().Be("0");
            untrusted.ExitCode.Should().Be(1);
            untrusted.ErrorLines.Should().ContainSingle().Which.Should().Contain("TLS").And.Contain("--cacert");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static Task EnableAuthAsync(string endpoint) => RawGateway.EnableRootAuthAsync(endpoint, Password);
}
