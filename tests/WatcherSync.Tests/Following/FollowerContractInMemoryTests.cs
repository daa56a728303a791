using WatcherSync.InMemory;
using WatcherSync.Testing;

namespace WatcherSync.Tests.Following;

public sealed class FollowerContractInMemoryTests : FollowerContractTests
{
    protected override Task<IBackendClient> CreateClientAsync() => Task.FromResult<IBackendClient>(new InMemoryBackend());
}
