using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using WatcherSync.Tests.Syncing;
using Xunit;

namespace WatcherSync.Tests.Dedupe;

/// <summary>A sink behind a dedupe buffer hears of a stop as a sink on the syncer does: after every update, before the stop's deletes.</summary>
public sealed class DedupeBufferStoppingTests
{
    private static readonly ResourceType[] Pods = [new ResourceType(new PrefixListOptions("/pods/"))];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Stop_ReachesAStoppingAwareSinkBehindTheBuffer_BeforeTheStopDeletes(bool asyncSink)
    {
        await using var store = new InMemoryBackend();
        await store.CreateAsync(new KVPair(new PathKey("/pods/a"), "1"));
        using var buffer = new DedupeBuffer();
        var sink = new StoppingAwareSink();
        var syncer = new WatcherSyncer(store, Pods, buffer);
        syncer.Start();
        Task sending = asyncSink
            ? buffer.SendToSinkForeverAsync((IAsyncSyncerCallbacks)sink)
            : buffer.SendToSinkForeverAsync((ISyncerCallbacks)sink);
        await syncer.WaitForInSyncAsync();

        // The sink has had the picture before the stop: queued together, a key's New and its Deleted coalesce to nothing.
        await Eventually.True(() => sink.Calls.Contains("InSync"), "the sink has been told InSync");
        await syncer.StopAsync();
        buffer.Complete();
        await Eventually.Within(sending, "a completed buffer's loop ends once it is empty");

        sink.Calls.Should().Equal("ResyncInProgress", "New /pods/a", "InSync", "Stopping", "Deleted /pods/a");
    }
}
