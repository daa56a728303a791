using System.Text;
using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Etcd.Tests;

/// <summary>A write applied by etcd whose reply is lost on the way back (a loopback proxy holds it): outcome unknown.</summary>
public sealed class EtcdLostReplyTests
{
    [Fact]
    public async Task TtlWrite_ReplyLost_OutcomeUnknown_KeyKeepsOldOrNewValue_NeverDeleted()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        await using var proxy = new TcpProxy(etcd.ClientUrl);
        EtcdClientOptions options = TestOptions.For(proxy.Url);
        options.RequestTimeout = TimeSpan.FromSeconds(2);
        await using var client = new EtcdBackendClient(options);
        await using var direct = new EtcdBackendClient(TestOptions.For(etcd.ClientUrl));
        var key = new PathKey("/lr/key-with-ttl");
        await client.ApplyAsync(new KVPair(key, "old"));

        // The put carries the key; from it on, etcd's replies are held: the grant's reply came back, the put's does not.
        proxy.HoldRepliesAfter(Encoding.UTF8.GetBytes("/lr/key-with-ttl"));
        Func<Task> write = () => client.ApplyAsync(new KVPair(key, "new") { Ttl = TimeSpan.FromMinutes(5) });
        (await write.Should().ThrowAsync<DatastoreUnavailableException>()).Which.OutcomeUnknown.Should().BeTrue();
        proxy.HoldingReplies.Should().BeTrue("the put reached etcd");
        proxy.Restore();

        // Whatever the client sends once the write failed, the key is never deleted: etcd applied the put.
        await client.ApplyAsync(new KVPair(new PathKey("/lr/after"), "x"));
        KVPair now = await direct.GetAsync(key);
        now.Value.Should().BeEquivalentTo("new"u8.ToArray(), "the put was applied; its lease must not be revoked");
    }
}
