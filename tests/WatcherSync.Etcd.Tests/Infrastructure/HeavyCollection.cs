using Xunit;

namespace WatcherSync.Etcd.Tests.Infrastructure;

/// <summary>Heavy tests (10,000 watches, a rolling restart of a cluster) run alone, not beside the other tests of the project.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyCollection
{
    public const string Name = "heavy";
}
