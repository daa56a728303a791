using FluentAssertions;
using Microsoft.Extensions.Logging.Abstractions;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Testing.ScriptedBackend;

namespace WatcherSync.Hosting.Tests;

public sealed class FanOutCallbacksTests
{
    [Fact]
    public async Task ParseAndSyncFailures_ForABufferedSink_GoThroughItsBufferInOrderNeverConcurrently()
    {
        var sink = new RecordingCallbacks();
        using var buffer = new DedupeBuffer();
        var fanOut = new FanOutCallbacks([new FanOutTarget(buffer, sink)], NullLogger.Instance);
        using var gate = new ManualResetEventSlim(false);
        sink.UpdatesGate = gate;
        Task sending = buffer.SendToSinkForeverAsync(sink);

        fanOut.OnStatusUpdated(SyncStatus.ResyncInProgress);
        fanOut.OnUpdates([new Update(Pair("/a/1", "x", 1), UpdateType.New)]);
        await Eventually.True(() => sink.UpdatesEntered == 1, "the sink is inside OnUpdates");
        fanOut.ParseFailed("/a/bad", "junk");
        fanOut.OnUpdates([new Update(Pair("/a/2", "y", 2), UpdateType.New)]);
        var error = new DatastoreUnavailableException("gone");
        fanOut.SyncFailed(error);
        gate.Set();
        await Eventually.True(() => sink.Calls.Count == 5, "everything reaches the sink");
        buffer.Stop();
        await Eventually.Within(sending, "the send loop ends");

        sink.Calls.Select(Describe).Should().Equal("ResyncInProgress", "[/a/1]", "ParseFailed /a/bad", "[/a/2]", "SyncFailed");
        sink.Violations.Should().BeEmpty("the buffered sink is never called twice at once");
    }

    private static string Describe(object call) => call switch
    {
        Update[] batch => $"[{string.Join(" ", batch.Select(u => u.KVPair.Key.DefaultPath))}]",
        RecordingCallbacks.ParseFailedCall p => $"ParseFailed {p.RawKey}",
        RecordingCallbacks.SyncFailedCall => "SyncFailed",
        _ => call.ToString() ?? "?",
    };
}
