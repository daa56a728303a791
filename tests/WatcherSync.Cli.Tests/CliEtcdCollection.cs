using WatcherSync.Etcd.Tests.Infrastructure;
using Xunit;

namespace WatcherSync.Cli.Tests;

/// <summary>The mirror tests share one etcd (the etcd tests' fixture); each works under a prefix of its own.</summary>
[CollectionDefinition(Name)]
public sealed class CliEtcdCollection : ICollectionFixture<EtcdFixture>
{
    public const string Name = "cli-etcd";
}
