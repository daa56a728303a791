using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Etcd.Watching;
using Xunit;
using static WatcherSync.Etcd.Tests.Infrastructure.WatchReader;

namespace WatcherSync.Etcd.Tests;

/// <summary>WatchAsync delivers previous values unless asked not to (the syncer never asks: etcd reads each).</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdPreviousValuesTests(EtcdFixture etcd)
{
    private readonly string _prefix = $"/prev/{Guid.NewGuid():N}/";

    [Fact]
    public async Task WatchAsync_HasPreviousValues_UnlessTheOptionsSayNot()
    {
        await using var client = new EtcdBackendClient(etcd.Options());
        KVPair created = await client.CreateAsync(new KVPair(new PathKey(_prefix + "a"), "1"));
        await using IWatch full = await client.WatchAsync(new PrefixListOptions(_prefix), new WatchOptions(created.Revision));
        await using IWatch lean = await client.WatchAsync(new PrefixListOptions(_prefix), new WatchOptions(created.Revision) { PreviousValues = false });

        await client.UpdateAsync(new KVPair(new PathKey(_prefix + "a"), "2"));
        await client.DeleteAsync(new PathKey(_prefix + "a"));

        (await ReadAsync(full, 2)).Should().OnlyContain(e => e.Old != null);
        List<WatchEvent> leanEvents = await ReadAsync(lean, 2);
        leanEvents.Select(e => e.Type).Should().Equal(WatchEventType.Modified, WatchEventType.Deleted);
        leanEvents.Should().OnlyContain(e => e.Old == null && e.New != null && e.New.Key.DefaultPath == _prefix + "a");
    }
}
