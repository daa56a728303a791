using System.Security.Cryptography.X509Certificates;
using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Etcd.Tests.Infrastructure.WatchReader;

namespace WatcherSync.Etcd.Tests;

/// <summary>Username/password auth and TLS with client certificates, each on a server of its own.</summary>
public sealed class EtcdSecurityTests
{
    private const string Password = "s3cret-pw";

    [Fact]
    public async Task Auth_RootWithPassword_EverythingWorks_AndAnExpiredTokenIsRenewed()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync(extraArguments: ["--auth-token-ttl", "1"]);
        await EnableAuthAsync(etcd.ClientUrl);
        EtcdClientOptions options = TestOptions.For(etcd.ClientUrl);
        options.Username = "root";
        options.Password = Password;
        await using var client = new EtcdBackendClient(options);
        await client.EnsureInitializedAsync();
        await ExerciseAsync(client);

        // A token of our own issued after the client's: once it has expired, so has the client's.
        (int _, string body) = await RawGateway.PostAsync(etcd.ClientUrl, "/v3/auth/authenticate", $$"""{"name":"root","password":"{{Password}}"}""");
        string token = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("token").GetString()!;
        await WaitUntilRejectedAsync(etcd.ClientUrl, token);

        Text((await client.GetAsync(new PathKey("/sec/a"))).Value).Should().Be("2", "the client authenticates again when its token is rejected");
    }

    [Fact]
    public async Task Auth_WrongPasswordOrNoCredentials_ClearNonTransientError()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        await EnableAuthAsync(etcd.ClientUrl);

        EtcdClientOptions wrong = TestOptions.For(etcd.ClientUrl);
        wrong.Username = "root";
        wrong.Password = "not-the-password";
        await using (var client = new EtcdBackendClient(wrong))
        {
            Func<Task> act = () => client.EnsureInitializedAsync();
            DatastoreException error = (await act.Should().ThrowAsync<DatastoreException>()).Which;
            error.IsTransient.Should().BeFalse();
            error.Message.Should().Contain("rejected the username or password").And.NotContain("not-the-password");
        }

        await using (var anonymous = new EtcdBackendClient(TestOptions.For(etcd.ClientUrl)))
        {
            Func<Task> act = () => anonymous.GetAsync(new PathKey("/sec/a"));
            DatastoreException error = (await act.Should().ThrowAsync<DatastoreException>()).Which;
            error.IsTransient.Should().BeFalse();
            error.Message.Should().Contain("requires authentication");
        }
    }

    [Fact]
    public async Task Tls_WithTrustedCaAndClientCertificate_EverythingWorks()
    {
        using var tls = new EtcdTls();
        await using EtcdProcess etcd = await EtcdProcess.StartAsync(tls);
        EtcdClientOptions options = TestOptions.For(etcd.ClientUrl);
        options.TrustedCertificateAuthorities = [tls.Ca];
        options.ClientCertificate = tls.Client;
        await using var client = new EtcdBackendClient(options);
        await client.EnsureInitializedAsync();
        await ExerciseAsync(client);
    }

    [Fact]
    public async Task Tls_ServerCertificateFromAnUntrustedCa_ClearNonTransientError()
    {
        using var tls = new EtcdTls();
        await using EtcdProcess etcd = await EtcdProcess.StartAsync(tls);
        using X509Certificate2 stranger = EtcdTls.CreateStrangerAuthority();
        EtcdClientOptions options = TestOptions.For(etcd.ClientUrl);
        options.TrustedCertificateAuthorities = [stranger];
        options.ClientCertificate = tls.Client;
        await using var client = new EtcdBackendClient(options);
        Func<Task> act = () => client.EnsureInitializedAsync();
        DatastoreException error = (await act.Should().ThrowAsync<DatastoreException>()).Which;
        error.IsTransient.Should().BeFalse();
        error.Message.Should().Contain("TLS handshake").And.Contain("TrustedCertificateAuthorities");
    }

    [Fact]
    public async Task Tls_ServerCertificateWithoutServerAuthUsage_FromTheTrustedCa_IsRefused()
    {
        // A client-only certificate of the cluster CA must not pass for a member (etcdctl: "incompatible key usage").
        using var tls = new EtcdTls(serverAuthUsage: false);
        await using EtcdProcess etcd = await EtcdProcess.StartAsync(tls);
        EtcdClientOptions options = TestOptions.For(etcd.ClientUrl);
        options.TrustedCertificateAuthorities = [tls.Ca];
        options.ClientCertificate = tls.Client;
        await using var client = new EtcdBackendClient(options);
        Func<Task> act = () => client.EnsureInitializedAsync();
        DatastoreException error = (await act.Should().ThrowAsync<DatastoreException>()).Which;
        error.IsTransient.Should().BeFalse();
        error.Message.Should().Contain("TLS handshake");
    }

    [Fact]
    public async Task Tls_ServerCertificateForAnotherName_IsRefused()
    {
        using var tls = new EtcdTls();
        await using EtcdProcess etcd = await EtcdProcess.StartAsync(tls);

        // The certificate names 127.0.0.1 and localhost; ::ffff:127.0.0.1 reaches the same member under another name.
        EtcdClientOptions options = TestOptions.For(etcd.ClientUrl.Replace("127.0.0.1", "[::ffff:127.0.0.1]", StringComparison.Ordinal));
        options.TrustedCertificateAuthorities = [tls.Ca];
        options.ClientCertificate = tls.Client;
        await using var client = new EtcdBackendClient(options);
        Func<Task> act = () => client.EnsureInitializedAsync();
        (await act.Should().ThrowAsync<DatastoreException>()).Which.Message.Should().Contain("TLS handshake");
    }

    private static async Task ExerciseAsync(EtcdBackendClient client)
    {
        KVPairList start = await client.ListAsync(new PrefixListOptions("/sec/"));
        await using IWatch watch = await client.WatchAsync(new PrefixListOptions("/sec/"), new WatchOptions(start.Revision));
        KVPair created = await client.CreateAsync(new KVPair(new PathKey("/sec/a"), "1"));
        await client.UpdateAsync(new KVPair(new PathKey("/sec/a"), "2", created.Revision));
        await client.ApplyAsync(new KVPair(new PathKey("/sec/ttl"), "t") { Ttl = TimeSpan.FromSeconds(30) });
        (await client.ListAsync(new PrefixListOptions("/sec/"))).KVPairs.Should().HaveCount(2);
        (await ReadAsync(watch, 3)).Select(e => e.Type).Should().Equal(WatchEventType.Added, WatchEventType.Modified, WatchEventType.Added);
    }

    private static Task EnableAuthAsync(string endpoint) => RawGateway.EnableRootAuthAsync(endpoint, Password);

    private static async Task WaitUntilRejectedAsync(string endpoint, string token)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            // Checking with the raw token would keep it alive: only look at it after a pause of its TTL.
            await Task.Delay(1100);
            (int status, _) = await RawGateway.PostAsync(endpoint, "/v3/kv/range", """{"key":"eA=="}""", token);
            if (status == 401)
            {
                return;
            }

            clock.Elapsed.Should().BeLessThan(Eventually.DefaultTimeout, "simple tokens expire after --auth-token-ttl");
        }
    }

    private static string? Text(object? value) => value is byte[] b ? System.Text.Encoding.UTF8.GetString(b) : value?.ToString();
}
