using Xunit;

namespace WatcherSync.Etcd.Tests.Infrastructure;

/// <summary>The tests that share one etcd run one after the other (compaction is server-wide).</summary>
[CollectionDefinition(Name)]
public sealed class EtcdCollection : ICollectionFixture<EtcdFixture>
{
    public const string Name = "etcd";
}
