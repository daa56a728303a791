using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Tests.Syncing;

/// <summary>A sink can tell a stop from real deletes: it is told the syncer is stopping, and may ask for no stop deletes.</summary>
public sealed class WatcherSyncerStopTests
{
    private static readonly ResourceType[] Pods = [new ResourceType(new PrefixListOptions("/pods/"))];

    [Fact]
    public async Task Stop_TellsAStoppingAwareSinkBeforeTheStopDeletes()
    {
        await using var store = new InMemoryBackend();
        await store.CreateAsync(new KVPair(new PathKey("/pods/a"), "1"));
        var sink = new StoppingAwareSink();
        var syncer = new WatcherSyncer(store, Pods, sink);
        syncer.Start();
        await syncer.WaitForInSyncAsync();

        await syncer.StopAsync();

        sink.Calls.Should().Equal("ResyncInProgress", "New /pods/a", "InSync", "Stopping", "Deleted /pods/a");
    }

    [Fact]
    public async Task Stop_WithDeleteOnStopOff_ReportsNoDeletes_AndStillSaysItIsStopping()
    {
        // A sink that persists the picture (a database, a cache) keeps it across a deploy.
        await using var store = new InMemoryBackend();
        await store.CreateAsync(new KVPair(new PathKey("/pods/a"), "1"));
        var sink = new StoppingAwareSink();
        var syncer = new WatcherSyncer(store, Pods, sink, new WatcherSyncerOptions { DeleteOnStop = false });
        syncer.Start();
        await syncer.WaitForInSyncAsync();

        await syncer.StopAsync();

        sink.Calls.Should().Equal("ResyncInProgress", "New /pods/a", "InSync", "Stopping");
    }
}
