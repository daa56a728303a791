using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Etcd.Tests;

/// <summary>The follower and single-key watch suite, unchanged, against a real etcd.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdFollowerTests(EtcdFixture etcd) : FollowerContractTests
{
    protected override Task<IBackendClient> CreateClientAsync() => Task.FromResult<IBackendClient>(new EtcdBackendClient(etcd.Options()));
}
