using System.Security.Cryptography;
using FluentAssertions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Etcd.Tests.Infrastructure.WatchReader;

namespace WatcherSync.Etcd.Tests;

/// <summary>
/// Bugs found in review of the etcd backend, each reproduced against a real etcd 3.4 (issue 17: the gateway client
/// had them; none may carry over to the gRPC transport).
/// </summary>
public sealed class EtcdRegressionTests
{
    private const string Password = "s3cret-pw";

    /// <summary>Bug 1: a request's timeout timer outlived the request and cancelled a disposed token source.</summary>
    [Fact]
    public async Task CustomTimeProvider_RequestsDone_NoTimerOutlivesItsCall()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        var time = new FakeTimeProvider();
        EtcdClientOptions options = TestOptions.For(etcd.ClientUrl);
        options.TimeProvider = time;
        await using var client = new EtcdBackendClient(options);
        await client.ApplyAsync(new KVPair(new PathKey("/t/a"), "1"));
        (await client.GetAsync(new PathKey("/t/a"))).Value.Should().NotBeNull();

        Action later = () => time.Advance(options.RequestTimeout * 2);
        later.Should().NotThrow("no timer of a finished request may fire");
        (await client.ListAsync(new PrefixListOptions("/t/"))).KVPairs.Should().HaveCount(1);
    }

    /// <summary>Bug 2: with auth on, a request whose member froze during authentication never moved to another member.</summary>
    [Fact]
    public async Task Auth_FirstMemberFrozen_ListAndWatchFailOverToAnotherMember()
    {
        IReadOnlyList<EtcdProcess> members = await EtcdProcess.StartClusterAsync(3);
        EtcdProcess? frozen = null;
        try
        {
            await RawGateway.EnableRootAuthAsync(members[0].ClientUrl, Password);
            int leader = await LeaderWithinAsync(members);
            frozen = members[(leader + 1) % members.Count];
            EtcdClientOptions options = TestOptions.For([frozen.ClientUrl, .. members.Where(m => m != frozen).Select(m => m.ClientUrl)]);
            options.Username = "root";
            options.Password = Password;
            options.RequestTimeout = TimeSpan.FromSeconds(2);
            await frozen.SignalAsync("STOP");

            await using var client = new EtcdBackendClient(options);
            KVPairList list = await Eventually.Within(client.ListAsync(new PrefixListOptions("/f/")), "the list moves off the frozen member");
            await using IWatch watch = await Eventually.Within(client.WatchAsync(new PrefixListOptions("/f/"), new WatchOptions(list.Revision)), "the watch moves off the frozen member");
            KVPair created = await client.CreateAsync(new KVPair(new PathKey("/f/a"), "1"));
            (await ReadAsync(watch, 1)).Single().Revision.Should().Be(created.Revision);
        }
        finally
        {
            if (frozen is not null)
            {
                await frozen.SignalAsync("CONT");
            }

            foreach (EtcdProcess member in members)
            {
                await member.DisposeAsync();
            }
        }
    }

    /// <summary>Bug 3: a watch that reconnected with a token etcd no longer knows resent it for ever.</summary>
    [Fact]
    public async Task Auth_WatchReconnectsAfterItsTokenWasInvalidated_AuthenticatesAgainAndDelivers()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        await RawGateway.EnableRootAuthAsync(etcd.ClientUrl, Password);
        await using var proxy = new TcpProxy(etcd.ClientUrl);
        EtcdClientOptions options = TestOptions.For(proxy.Url);
        options.Username = "root";
        options.Password = Password;
        await using var client = new EtcdBackendClient(options);
        KVPairList start = await client.ListAsync(new PrefixListOptions("/w/"));
        await using IWatch watch = await client.WatchAsync(new PrefixListOptions("/w/"), new WatchOptions(start.Revision));

        // Setting the same password again makes etcd forget every token of the user, as an expired token would be.
        string admin = await RawGateway.AuthenticateAsync(etcd.ClientUrl, "root", Password);
        await RawGateway.MustPostAsync(etcd.ClientUrl, "/v3/auth/user/changepw", $$"""{"name":"root","password":"{{Password}}"}""", admin);
        proxy.Cut();
        proxy.Restore();

        string fresh = await RawGateway.AuthenticateAsync(etcd.ClientUrl, "root", Password);
        await RawGateway.MustPostAsync(etcd.ClientUrl, "/v3/kv/put", """{"key":"L3cvYQ==","value":"MQ=="}""", fresh);
        (await ReadAsync(watch, 1, TimeSpan.FromSeconds(15))).Single().New!.Key.DefaultPath.Should().Be("/w/a");
    }

    /// <summary>Bug 4: with JWT tokens, "revision of auth store is old" (any auth change) broke the client for good.</summary>
    [Fact]
    public async Task Jwt_AuthChangedAfterTheClientAuthenticated_ClientAuthenticatesAgain()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"watchersync-jwt-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            using RSA key = RSA.Create(2048);
            string privateKey = Path.Combine(dir, "jwt.key");
            string publicKey = Path.Combine(dir, "jwt.pub");
            await File.WriteAllTextAsync(privateKey, key.ExportRSAPrivateKeyPem());
            await File.WriteAllTextAsync(publicKey, key.ExportSubjectPublicKeyInfoPem());
            await using EtcdProcess etcd = await EtcdProcess.StartAsync(extraArguments: ["--auth-token", $"jwt,pub-key={publicKey},priv-key={privateKey},sign-method=RS256,ttl=10m"]);
            await RawGateway.EnableRootAuthAsync(etcd.ClientUrl, Password);
            EtcdClientOptions options = TestOptions.For(etcd.ClientUrl);
            options.Username = "root";
            options.Password = Password;
            await using var client = new EtcdBackendClient(options);
            await client.ApplyAsync(new KVPair(new PathKey("/j/a"), "1"));

            string admin = await RawGateway.AuthenticateAsync(etcd.ClientUrl, "root", Password);
            await RawGateway.MustPostAsync(etcd.ClientUrl, "/v3/auth/role/add", """{"name":"reader"}""", admin);

            (await client.GetAsync(new PathKey("/j/a"))).Revision.Should().NotBeNull("a token from before an auth change is renewed, as clientv3 does");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Bug 5: after sending events etcd skips the next progress notification, so a healthy quiet watch may hear
    /// nothing for twice the interval; the watchdog allowed only the interval plus the slack.
    /// </summary>
    [Fact]
    public async Task Watchdog_QuietForLongerThanOneIntervalAfterEvents_KeepsTheStream()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        var time = new FakeTimeProvider();
        var logs = new FakeLogCollector();
        EtcdClientOptions options = TestOptions.For(etcd.ClientUrl);
        options.TimeProvider = time;
        options.LoggerFactory = FakeLogs.Factory(logs);
        await using var client = new EtcdBackendClient(options);
        KVPairList start = await client.ListAsync(new PrefixListOptions("/q/"));
        await using IWatch watch = await client.WatchAsync(new PrefixListOptions("/q/"), new WatchOptions(start.Revision));
        await client.CreateAsync(new KVPair(new PathKey("/q/a"), "1"));
        await ReadAsync(watch, 1);

        // Silence of 1.5 intervals plus the slack: within what a healthy stream may be silent for.
        time.Advance((options.ProgressNotifyInterval * 1.5) + options.WatchdogSlack);

        logs.GetSnapshot().Should().NotContain(e => e.Id.Id == 3006, "the watchdog allows twice the progress interval plus the slack");
        KVPair b = await client.CreateAsync(new KVPair(new PathKey("/q/b"), "1"));
        (await ReadAsync(watch, 1)).Single().Revision.Should().Be(b.Revision);
    }

    /// <summary>Bug 6: a server certificate from an intermediate CA was rejected although its root was trusted.</summary>
    [Fact]
    public async Task Tls_ServerCertificateFromAnIntermediateCa_IsTrustedThroughItsRoot()
    {
        using var tls = new EtcdTls(intermediate: true);
        await using EtcdProcess etcd = await EtcdProcess.StartAsync(tls);
        EtcdClientOptions options = TestOptions.For(etcd.ClientUrl);
        options.TrustedCertificateAuthorities = [tls.Ca];
        options.ClientCertificate = tls.Client;
        await using var client = new EtcdBackendClient(options);
        await client.ApplyAsync(new KVPair(new PathKey("/tls/a"), "1"));
        (await client.ListAsync(new PrefixListOptions("/tls/"))).KVPairs.Should().ContainSingle();
    }

    /// <summary>Bug 7: once the client lease was gone on the server, client-lifetime writes failed until the keepalive noticed.</summary>
    [Fact]
    public async Task ClientLease_RevokedOnTheServer_NextClientLifetimeWriteGrantsANewLease()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        await using var client = new EtcdBackendClient(TestOptions.For(etcd.ClientUrl));
        await client.ApplyWithClientLifetimeAsync(new KVPair(new PathKey("/l/a"), "1"));
        long lease = await RawGateway.LeaseOfAsync(etcd.ClientUrl, "/l/a");
        lease.Should().NotBe(0);
        await RawGateway.MustPostAsync(etcd.ClientUrl, "/v3/lease/revoke", $$"""{"ID":"{{lease}}"}""");

        await client.ApplyWithClientLifetimeAsync(new KVPair(new PathKey("/l/b"), "1"));

        long renewed = await RawGateway.LeaseOfAsync(etcd.ClientUrl, "/l/b");
        renewed.Should().NotBe(0).And.NotBe(lease, "a new client lease was granted");
    }

    private static async Task<int> LeaderWithinAsync(IReadOnlyList<EtcdProcess> members)
    {
        int leader = -1;
        await Eventually.True(() => (leader = RawGateway.LeaderAsync(members).GetAwaiter().GetResult()) >= 0, "the cluster elects a leader");
        return leader;
    }
}
