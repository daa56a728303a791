using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Tests.Dedupe;

/// <summary>The send loop with an async sink whose I/O fails the way .NET I/O fails.</summary>
public sealed class DedupeBufferSinkTimeoutTests
{
    [Fact]
    public async Task AsyncSinkWhoseCallTimesOut_FaultsTheLoop_ItIsNotACancellation()
    {
        // HttpClient reports its own timeout as a TaskCanceledException: a sink writing over HTTP throws that when its
        // server is slow, though nobody cancelled the loop.
        using var buffer = new DedupeBuffer();
        buffer.OnUpdates([new Update(new KVPair(new PathKey("/k"), 1), UpdateType.New)]);
        var sink = new TimingOutSink();

        Task sending = buffer.SendToSinkForeverAsync(sink, CancellationToken.None);
        await Eventually.True(() => sending.IsCompleted, "the loop ends on the sink's exception");

        // SendToSinkForeverAsync: "faults with the exception the sink threw". A loop that reads as cancelled is taken
        // for a shutdown by the usual `catch (OperationCanceledException)` around it, and the sink's failure is lost.
        sending.Status.Should().Be(TaskStatus.Faulted, "the token given to the loop was never cancelled: the sink failed");
    }

    private sealed class TimingOutSink : IAsyncSyncerCallbacks
    {
        public ValueTask OnStatusUpdatedAsync(SyncStatus status, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask OnUpdatesAsync(IReadOnlyList<Update> updates, CancellationToken cancellationToken) =>
            ValueTask.FromException(new TaskCanceledException("The request was canceled due to the configured HttpClient.Timeout of 100 seconds elapsing.", new TimeoutException()));
    }
}
