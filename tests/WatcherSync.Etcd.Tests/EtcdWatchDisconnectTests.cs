using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using Xunit;
using static WatcherSync.Etcd.Tests.Infrastructure.WatchReader;

namespace WatcherSync.Etcd.Tests;

/// <summary>Watches cut off from the shared etcd by a loopback proxy.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdWatchDisconnectTests(EtcdFixture etcd) : IAsyncLifetime
{
    private readonly string _prefix = $"/disconnect/{Guid.NewGuid():N}/";
    private TcpProxy _proxy = null!;
    private EtcdBackendClient _direct = null!;

    public Task InitializeAsync()
    {
        _proxy = new TcpProxy(etcd.Endpoint);
        _direct = new EtcdBackendClient(etcd.Options());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _direct.DisposeAsync();
        await _proxy.DisposeAsync();
    }

    [Fact]
    public async Task Watch_CompactedWhileDisconnected_EndsWithRevisionExpired()
    {
        await using var client = new EtcdBackendClient(TestOptions.For(_proxy.Url));
        KVPairList start = await client.ListAsync(new PrefixListOptions(_prefix));
        await using IWatch watch = await client.WatchAsync(new PrefixListOptions(_prefix), new WatchOptions(start.Revision));
        await _direct.CreateAsync(new KVPair(new PathKey(_prefix + "a"), "1"));
        (await ReadAsync(watch, 1))[0].Type.Should().Be(WatchEventType.Added);

        _proxy.Cut();
        await _direct.UpdateAsync(new KVPair(new PathKey(_prefix + "a"), "2"));
        KVPair last = await _direct.CreateAsync(new KVPair(new PathKey(_prefix + "b"), "1"));
        await _direct.CompactAsync(last.Revision);
        _proxy.Restore();

        Exception error = await ErrorAsync(watch);
        error.Should().BeOfType<RevisionExpiredException>().Which.IsTransient.Should().BeFalse();
    }

    [Fact]
    public async Task Watch_ShortDisconnect_ResumesFromTheLastRevisionWithoutGapOrDuplicate()
    {
        await using var client = new EtcdBackendClient(TestOptions.For(_proxy.Url));
        KVPairList start = await client.ListAsync(new PrefixListOptions(_prefix));
        await using IWatch watch = await client.WatchAsync(new PrefixListOptions(_prefix), new WatchOptions(start.Revision));
        var written = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            written.Add((await _direct.ApplyAsync(new KVPair(new PathKey($"{_prefix}k{i}"), "before"))).Revision!);
        }

        List<WatchEvent> events = await ReadAsync(watch, 5);
        _proxy.Cut();
        for (int i = 0; i < 5; i++)
        {
            written.Add((await _direct.ApplyAsync(new KVPair(new PathKey($"{_prefix}k{i}"), "during"))).Revision!);
        }

        _proxy.Restore();
        events.AddRange(await ReadAsync(watch, 5));
        events.Select(e => e.Revision).Should().Equal(written);
        events.Skip(5).Should().OnlyContain(e => e.Type == WatchEventType.Modified);
    }

    [Fact]
    public async Task Watch_SilentStream_WatchdogEndsItWithATransientError()
    {
        EtcdClientOptions options = TestOptions.For(_proxy.Url);
        options.ProgressNotifyInterval = TimeSpan.FromSeconds(1);
        options.WatchdogSlack = TimeSpan.FromSeconds(1);
        options.WatchReconnectTimeout = TimeSpan.Zero;
        await using var client = new EtcdBackendClient(options);
        await using IWatch watch = await client.WatchAsync(new PrefixListOptions(_prefix), new WatchOptions(AllowWatchBookmarks: true));

        _proxy.Blackhole();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Exception error = await ErrorAsync(watch, TimeSpan.FromSeconds(15));
        clock.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(10));
        error.Should().BeOfType<DatastoreUnavailableException>().Which.IsTransient.Should().BeTrue();
        error.Message.Should().Contain("silent");
        _proxy.Restore();
    }
}
