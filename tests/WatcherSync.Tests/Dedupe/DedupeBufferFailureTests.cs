using FluentAssertions;
using WatcherSync.Testing;
using Xunit;
using static WatcherSync.Testing.ScriptedBackend;

namespace WatcherSync.Tests.Dedupe;

public sealed class DedupeBufferFailureTests
{
    [Fact]
    public void Failures_QueuedAmongUpdates_ReachTheSinkInTheirPlace()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingCallbacks();
        var error = new DatastoreUnavailableException("gone");
        buffer.OnStatusUpdated(SyncStatus.ResyncInProgress);
        buffer.OnUpdates([new Update(Pair("/a", "1", 1), UpdateType.New)]);
        buffer.ParseFailed("/bad", "junk");
        buffer.OnUpdates([new Update(Pair("/b", "2", 2), UpdateType.New)]);
        buffer.OnStatusUpdated(SyncStatus.WaitForDatastore);
        buffer.SyncFailed(error);
        buffer.QueueLength.Should().Be(6);

        buffer.DrainTo(sink);
        sink.Calls.Should().HaveCount(6);
        sink.Calls[2].Should().Be(new RecordingCallbacks.ParseFailedCall("/bad", "junk"));
        sink.Calls[4].Should().Be(SyncStatus.WaitForDatastore);
        sink.Calls[5].Should().Be(new RecordingCallbacks.SyncFailedCall(error));
    }

    [Fact]
    public void Failures_ForASinkWithoutTheInterfaces_AreDroppedAtDelivery()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        buffer.OnStatusUpdated(SyncStatus.InSync);
        buffer.ParseFailed("/bad", null);
        buffer.SyncFailed(new DatastoreUnavailableException("gone"));
        buffer.DrainTo(sink);
        sink.Calls.Should().Equal("Status InSync");
        buffer.QueueLength.Should().Be(0);
    }

    [Fact]
    public void OnConnectionRestarted_KeepsQueuedFailuresInOrder_AndDiscardsTheStaleUpdates()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingCallbacks();
        buffer.OnStatusUpdated(SyncStatus.InSync);
        buffer.DrainTo(sink);
        buffer.OnUpdates([new Update(Pair("/a", "stale", 1), UpdateType.New)]);
        buffer.ParseFailed("/bad1", null);
        buffer.ParseFailed("/bad2", null);
        buffer.OnConnectionRestarted();
        buffer.DrainTo(sink);
        sink.Calls.Skip(1).Should().Equal(new RecordingCallbacks.ParseFailedCall("/bad1", null), new RecordingCallbacks.ParseFailedCall("/bad2", null));
    }

    [Fact]
    public void ParseFailures_OfOneKeyRewrittenBadlyBehindAStalledSink_KeepTheQueueBoundedByTheKeys()
    {
        // A hostile writer rewrites one key with junk as fast as it can while the sink is stuck: each write is a new
        // bad write (a new revision), reported once by the syncer, so each reaches the buffer.
        using var buffer = new DedupeBuffer();
        buffer.OnStatusUpdated(SyncStatus.InSync);
        for (int i = 1; i <= 10_000; i++)
        {
            buffer.OnUpdates([new Update(Pair("/a/good", i.ToString(System.Globalization.CultureInfo.InvariantCulture), i), UpdateType.Updated)]);
            buffer.ParseFailed("/a/bad", "junk " + i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        buffer.QueueLength.Should().BeLessThanOrEqualTo(3, "memory is bounded by the number of distinct keys, whatever the rate (DESIGN, DedupeBuffer): one status, one good key, one bad key");
    }

    [Fact]
    public void OnConnectionRestarted_WithALossQueued_NeverHandsTheSinkASyncFailedWithoutItsWaitForDatastore()
    {
        // The upstream lost the datastore (WaitForDatastore, then SyncFailed: DESIGN, syncer semantics 6) while the
        // sink was busy, then reconnected. The sink was last told InSync.
        using var buffer = new DedupeBuffer();
        var sink = new RecordingCallbacks();
        buffer.OnStatusUpdated(SyncStatus.InSync);
        buffer.DrainTo(sink);
        var error = new DatastoreUnavailableException("gone for the retry timeout");
        buffer.OnStatusUpdated(SyncStatus.WaitForDatastore);
        buffer.SyncFailed(error);
        buffer.OnConnectionRestarted();
        buffer.DrainTo(sink);

        SyncStatus? told = null;
        foreach (object call in sink.Calls)
        {
            if (call is SyncStatus status)
            {
                told = status;
            }
            else if (call is RecordingCallbacks.SyncFailedCall)
            {
                told.Should().Be(SyncStatus.WaitForDatastore, "a sync failure reaches a sink that was told the datastore is lost, never one that believes it is in sync; calls: {0}", string.Join(", ", sink.Calls));
            }
        }
    }

    [Fact]
    public void Failures_AfterStopOrComplete_AreIgnored()
    {
        using var completed = new DedupeBuffer();
        completed.Complete();
        completed.ParseFailed("/bad", null);
        completed.SyncFailed(new DatastoreUnavailableException("gone"));
        completed.QueueLength.Should().Be(0);

        using var stopped = new DedupeBuffer();
        stopped.Stop();
        stopped.ParseFailed("/bad", null);
        stopped.QueueLength.Should().Be(0);
        stopped.Invoking(b => b.SyncFailed(null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void ParseFailure_OfAKeyWhoseFailureIsQueued_ReplacesItAtTheTailNeverAheadOfTheUpdatesBefore()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingCallbacks();
        buffer.ParseFailed("/bad", "junk 1");
        buffer.OnUpdates([new Update(Pair("/a", "1", 1), UpdateType.New)]);
        buffer.ParseFailed("/bad", "junk 2");
        buffer.QueueLength.Should().Be(2, "the older failure of /bad is dropped");

        buffer.DrainTo(sink);
        sink.Calls.Select(Describe).Should().Equal(["[/a]", "ParseFailed /bad junk 2"], "the newest failure comes after the update raised before it");
    }

    [Fact]
    public void GoodUpdate_OfAKeyWhoseParseFailureIsQueued_LeavesTheFailureQueuedBeforeIt()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingCallbacks();
        buffer.ParseFailed("/a", "junk");
        buffer.OnUpdates([new Update(Pair("/a", "good", 2), UpdateType.New)]);
        buffer.DrainTo(sink);
        sink.Calls.Select(Describe).Should().Equal(["ParseFailed /a junk", "[/a]"]);
    }

    [Fact]
    public void SyncFailures_QueuedBehindAStalledSink_AtMostOneTheNewest()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingCallbacks();
        var last = new DatastoreUnavailableException("lost 100");
        for (int i = 1; i < 100; i++)
        {
            buffer.OnStatusUpdated(SyncStatus.WaitForDatastore);
            buffer.SyncFailed(new DatastoreUnavailableException("lost " + i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            buffer.OnStatusUpdated(SyncStatus.InSync);
        }

        buffer.OnStatusUpdated(SyncStatus.WaitForDatastore);
        buffer.SyncFailed(last);
        buffer.QueueLength.Should().BeLessThanOrEqualTo(3);
        buffer.DrainTo(sink);
        sink.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Should().Equal(new RecordingCallbacks.SyncFailedCall(last));
        sink.Calls[^2].Should().Be(SyncStatus.WaitForDatastore);
    }

    [Fact]
    public void OnConnectionRestarted_AfterTheSinkWasToldWaitForDatastore_KeepsTheFailureAndTheNewStatusesFollow()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingCallbacks();
        var error = new DatastoreUnavailableException("gone for the retry timeout");
        buffer.OnStatusUpdated(SyncStatus.WaitForDatastore);
        buffer.DrainTo(sink);
        buffer.SyncFailed(error);
        buffer.OnConnectionRestarted();
        buffer.OnStatusUpdated(SyncStatus.ResyncInProgress);
        buffer.OnUpdates([new Update(Pair("/a", "1", 1), UpdateType.New)]);
        buffer.OnStatusUpdated(SyncStatus.InSync);
        buffer.DrainTo(sink);
        sink.Calls.Select(Describe).Should().Equal(
            ["WaitForDatastore", "SyncFailed", "ResyncInProgress", "[/a]", "InSync"],
            "the sink already knew of the loss: no second WaitForDatastore, and the new connection's statuses are not taken for repeats");
    }

    private static string Describe(object call) => call switch
    {
        IReadOnlyList<Update> updates => "[" + string.Join(",", updates.Select(u => u.KVPair.Key.DefaultPath)) + "]",
        RecordingCallbacks.ParseFailedCall p => $"ParseFailed {p.RawKey} {p.RawValue}",
        RecordingCallbacks.SyncFailedCall => "SyncFailed",
        _ => call.ToString() ?? string.Empty,
    };
}
