using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Etcd.Tests;

/// <summary>The DataSync suite, unchanged, against a real etcd (each client a separate connection with its own lease).</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdDataSyncTests(EtcdFixture etcd) : DataSyncContractTests
{
    protected override Task<IBackendClient> CreateClientAsync() => Task.FromResult<IBackendClient>(new EtcdBackendClient(etcd.Options()));

    protected override Task CompactAsync(IBackendClient client) => ((EtcdBackendClient)client).CompactAsync(revision: null);

    // etcd keeps real time: leases expire on the wall clock.
    protected override Task AdvanceTimeAsync(TimeSpan elapsed) => Task.CompletedTask;
}
