using System.Diagnostics;
using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Etcd.Tests;

/// <summary>The client lease under network cuts and revocation: keys that live as long as the client.</summary>
public sealed class EtcdClientLeaseTests
{
    [Fact]
    public async Task CutShorterThanTheTtl_WithLostPackets_ClientLifetimeKeyIsNeverLost()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        await using var proxy = new TcpProxy(etcd.ClientUrl);
        EtcdClientOptions options = TestOptions.For(proxy.Url);
        options.ClientLeaseTtl = TimeSpan.FromSeconds(9);
        await using var client = new EtcdBackendClient(options);
        await using var direct = new EtcdBackendClient(TestOptions.For(etcd.ClientUrl));
        var key = new PathKey("/cl/alive");
        await client.ApplyWithClientLifetimeAsync(new KVPair(key, "v"));

        // A 5 s cut that loses every byte, under a 9 s TTL; then watch the key for two TTLs.
        proxy.Drop();
        var clock = Stopwatch.StartNew();
        bool lost = false;
        await Eventually.True(
            () =>
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(5))
                {
                    proxy.Restore();
                }

                lost |= !Exists(direct, key);
                return lost || clock.Elapsed > TimeSpan.FromSeconds(18);
            },
            "two TTLs pass or the key is lost",
            TimeSpan.FromSeconds(60));
        lost.Should().BeFalse("a cut shorter than the lease TTL must not lose a client-lifetime key");
    }

    [Fact]
    public async Task LeaseRevokedOnTheServer_ApplicationIsTold_AndTheNextWriteGetsANewLeasePromptly()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        EtcdClientOptions options = TestOptions.For(etcd.ClientUrl);
        options.ClientLeaseTtl = TimeSpan.FromSeconds(60);
        await using var client = new EtcdBackendClient(options);
        int told = 0;
        client.ClientLeaseLost += (_, _) => Interlocked.Increment(ref told);
        await client.ApplyWithClientLifetimeAsync(new KVPair(new PathKey("/cr/a"), "1"));
        long lease = await RawGateway.LeaseOfAsync(etcd.ClientUrl, "/cr/a");
        await RawGateway.MustPostAsync(etcd.ClientUrl, "/v3/lease/revoke", $$"""{"ID":"{{lease}}"}""");

        // The write finds the lease gone and grants a new one at once: not after the keepalive's next tick (20 s).
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.ApplyWithClientLifetimeAsync(new KVPair(new PathKey("/cr/b"), "1"), cancel.Token);
        (await RawGateway.LeaseOfAsync(etcd.ClientUrl, "/cr/b")).Should().NotBe(0).And.NotBe(lease);
        Volatile.Read(ref told).Should().Be(1, "the application is told that keys written with the lost lease are gone");
    }

    internal static bool Exists(EtcdBackendClient client, PathKey key)
    {
        try
        {
            client.GetAsync(key).GetAwaiter().GetResult();
            return true;
        }
        catch (ResourceNotFoundException)
        {
            return false;
        }
    }
}
