using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Etcd.Tests;

/// <summary>The backend contract suite, unchanged, against a real etcd.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdBackendContractTests(EtcdFixture etcd) : BackendContractTests
{
    private EtcdBackendClient? _client;

    protected override Task<IBackendClient> CreateClientAsync()
    {
        _client = new EtcdBackendClient(etcd.Options());
        return Task.FromResult<IBackendClient>(_client);
    }

    protected override Task CompactAsync(string revision) => _client!.CompactAsync(revision);

    // etcd keeps real time: leases expire and progress notifications come on the wall clock.
    protected override Task AdvanceTimeAsync(TimeSpan elapsed) => Task.CompletedTask;
}
