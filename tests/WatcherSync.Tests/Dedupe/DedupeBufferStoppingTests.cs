using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Tests.Dedupe;

public sealed class DedupeBufferStoppingTests
{
    [Fact]
    public async Task OnStopping_ReachesTheSinkAfterWhatWasQueuedBeforeIt_AndBeforeTheStopsDeletes()
    {
        using var buffer = new DedupeBuffer();
        var sink = new StoppingAwareSink();
        Task sending = buffer.SendToSinkForeverAsync(sink);
        buffer.OnStatusUpdated(SyncStatus.ResyncInProgress);
        buffer.OnUpdates([new Update(new KVPair(new PathKey("/a"), "1"), UpdateType.New), new Update(new KVPair(new PathKey("/b"), "2"), UpdateType.New)]);
        buffer.OnStatusUpdated(SyncStatus.InSync);
        await Eventually.True(() => sink.Calls.Contains("InSync"), "the sink holds /a and /b");

        buffer.OnUpdates([new Update(new KVPair(new PathKey("/a"), null), UpdateType.Deleted)]);
        buffer.OnStopping();
        buffer.OnUpdates([new Update(new KVPair(new PathKey("/b"), null), UpdateType.Deleted)]);
        buffer.Complete();
        await Eventually.Within(sending, "the completed buffer drains");

        sink.Calls.Should().Equal("ResyncInProgress", "New /a", "New /b", "InSync", "Deleted /a", "Stopping", "Deleted /b");
    }

    [Fact]
    public async Task OnStopping_ToASinkThatDoesNotWantIt_IsDropped()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingCallbacks();
        buffer.OnStatusUpdated(SyncStatus.InSync);
        buffer.OnStopping();
        buffer.Complete();

        await Eventually.Within(buffer.SendToSinkForeverAsync(sink), "the completed buffer drains");

        sink.Calls.Should().Equal(SyncStatus.InSync);
    }
}
