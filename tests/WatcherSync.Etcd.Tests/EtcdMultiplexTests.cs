using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Etcd.Tests;

/// <summary>Every watch of a client shares one Watch stream on one HTTP/2 connection per endpoint.</summary>
public sealed class EtcdMultiplexTests
{
    [Fact]
    public async Task Syncer_With64ResourceTypes_HoldsOneTcpConnectionToEtcd()
    {
        await using EtcdProcess etcd = await EtcdProcess.StartAsync();
        int port = new Uri(etcd.ClientUrl).Port;
        await RawGateway.PutManyAsync(etcd.ClientUrl, Enumerable.Range(0, 64 * 5).Select(i => ($"/m/t{i % 64:D2}/k{i}", "v"u8.ToArray())));
        await using var client = new EtcdBackendClient(TestOptions.For(etcd.ClientUrl));
        var sink = new RecordingCallbacks();
        ResourceType[] types = [.. Enumerable.Range(0, 64).Select(t => new ResourceType(new PrefixListOptions($"/m/t{t:D2}/")))];
        await using ISyncer syncer = client.CreateSyncer(types, sink);
        syncer.Start();
        await Eventually.True(() => sink.LastStatus == SyncStatus.InSync && sink.Picture.Count == 64 * 5, "the syncer of 64 types is in sync");

        // Every type is watching now: a write to each is delivered.
        for (int t = 0; t < 64; t++)
        {
            await client.CreateAsync(new KVPair(new PathKey($"/m/t{t:D2}/new"), "n"));
        }

        await Eventually.True(() => sink.Picture.Count == 64 * 6, "each of the 64 watches delivers its write");
        TcpConnections.EstablishedTo(port).Should().Be(1, "requests and all 64 watches share one HTTP/2 connection");
    }
}
