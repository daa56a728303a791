using Microsoft.Extensions.Time.Testing;
using WatcherSync.InMemory;
using WatcherSync.Testing;

namespace WatcherSync.Tests.InMemory;

public sealed class InMemoryBackendContractTests : BackendContractTests
{
    private readonly FakeTimeProvider _time = new();
    private InMemoryBackend? _backend;

    protected override Task<IBackendClient> CreateClientAsync()
    {
        _backend = new InMemoryBackend(new InMemoryBackendOptions { TimeProvider = _time });
        return Task.FromResult<IBackendClient>(_backend);
    }

    protected override Task CompactAsync(string revision)
    {
        _backend!.Compact(revision);
        return Task.CompletedTask;
    }

    protected override Task AdvanceTimeAsync(TimeSpan elapsed)
    {
        _time.Advance(elapsed);
        return Task.CompletedTask;
    }
}
