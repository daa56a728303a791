using FluentAssertions;
using WatcherSync.InMemory;
using Xunit;

namespace WatcherSync.Tests.Backend;

/// <summary>The common reads and writes by key path, and TryGetAsync, which answers null for an absent key.</summary>
public sealed class BackendClientStringKeyExtensionsTests
{
    [Fact]
    public async Task WritesAndReadsByPath_BehaveAsTheirPairForms()
    {
        await using var store = new InMemoryBackend();

        KVPair created = await store.CreateAsync("/app/a", "1");
        KVPair updated = await store.UpdateAsync("/app/a", "2");
        KVPair applied = await store.ApplyAsync("/app/b", "3");
        KVPair read = await store.GetAsync("/app/a");
        KVPair deleted = await store.DeleteAsync("/app/b");

        created.Key.Should().Be(new PathKey("/app/a"));
        read.Value.Should().Be("2");
        read.Revision.Should().Be(updated.Revision);
        applied.Value.Should().Be("3");
        deleted.Value.Should().Be("3", "a delete returns the pair as it was");
        Func<Task> again = () => store.CreateAsync("/app/a", "x");
        await again.Should().ThrowAsync<ResourceAlreadyExistsException>();
        Func<Task> missing = () => store.GetAsync("/app/b");
        await missing.Should().ThrowAsync<ResourceNotFoundException>();
    }

    [Fact]
    public async Task TryGetAsync_AnAbsentKey_IsNull_APresentOne_IsItsPair()
    {
        await using var store = new InMemoryBackend();
        await store.CreateAsync("/app/a", "1");

        (await store.TryGetAsync("/app/a")).Should().NotBeNull().And.Subject.As<KVPair>().Value.Should().Be("1");
        (await store.TryGetAsync("/app/none")).Should().BeNull();
        (await store.TryGetAsync(new PathKey("/app/none"))).Should().BeNull();
    }

    [Fact]
    public async Task AnEmptyPath_IsAnArgumentException()
    {
        await using var store = new InMemoryBackend();

        Func<Task> create = () => store.CreateAsync(string.Empty, "1");

        await create.Should().ThrowAsync<ArgumentException>();
    }
}
