using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using Xunit;
using static WatcherSync.Etcd.Tests.Infrastructure.WatchReader;

namespace WatcherSync.Etcd.Tests;

/// <summary>A three-member cluster: requests and watches move off a member that dies.</summary>
public sealed class EtcdClusterTests : IAsyncLifetime
{
    private IReadOnlyList<EtcdProcess> _members = [];

    public async Task InitializeAsync() => _members = await EtcdProcess.StartClusterAsync(3);

    public async Task DisposeAsync()
    {
        foreach (EtcdProcess member in _members)
        {
            await member.DisposeAsync();
        }
    }

    [Fact]
    public async Task MemberOfTheWatchStopped_ClientFailsOverAndTheWatchResumes()
    {
        EtcdClientOptions options = TestOptions.For([.. _members.Select(m => m.ClientUrl)]);
        await using var client = new EtcdBackendClient(options);
        KVPairList start = await client.ListAsync(new PrefixListOptions("/c/"));

        // The client starts on the first endpoint, so the watch is attached to member 0.
        await using IWatch watch = await client.WatchAsync(new PrefixListOptions("/c/"), new WatchOptions(start.Revision));
        var written = new List<string>();
        for (int i = 0; i < 10; i++)
        {
            written.Add(await CreateAsync(client, $"/c/k{i}"));
        }

        List<WatchEvent> events = await ReadAsync(watch, 10);
        _members[0].Kill();
        for (int i = 10; i < 20; i++)
        {
            written.Add(await CreateAsync(client, $"/c/k{i}"));
        }

        events.AddRange(await ReadAsync(watch, 10, TimeSpan.FromSeconds(40)));
        events.Select(e => e.Revision).Should().Equal(written);
        events.Should().OnlyContain(e => e.Type == WatchEventType.Added);
    }

    /// <summary>Creates a key, retrying transient failures (a retried create that had landed reads its revision back).</summary>
    private static async Task<string> CreateAsync(EtcdBackendClient client, string key)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                return (await client.CreateAsync(new KVPair(new PathKey(key), "x"))).Revision!;
            }
            catch (ResourceAlreadyExistsException)
            {
                return (await client.GetAsync(new PathKey(key))).Revision!;
            }
            catch (DatastoreException ex) when (ex.IsTransient && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }
}
