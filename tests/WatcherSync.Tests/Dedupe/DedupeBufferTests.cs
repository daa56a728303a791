using System.Diagnostics;
using System.Diagnostics.Metrics;
using FluentAssertions;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Testing;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Tests.Dedupe;

/// <summary>Runs the dedupe tests alone: several measure time and memory, and some hold a million keys.</summary>
[CollectionDefinition(nameof(DedupeBufferCollection), DisableParallelization = true)]
public sealed class DedupeBufferCollection
{
}

[Collection(nameof(DedupeBufferCollection))]
public sealed class DedupeBufferTests
{
    /// <summary>A deadlock in the heavy tests (a sink called under the lock, say) fails them instead of hanging the run.</summary>
    private const int HeavyTestTimeoutMs = 120_000;

    // ---- the queue and the key map ----

    [Fact]
    public void OnUpdates_UpdateToQueuedKey_ReplacesItInPlaceKeepingOlderPosition()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();

        buffer.OnUpdates([Set("/a", 1), Set("/b", 1)]);
        buffer.OnUpdates([Set("/c", 1), Set("/a", 2)]);

        buffer.QueueLength.Should().Be(3);
        buffer.UpdatesCoalesced.Should().Be(1);
        Flush(buffer, sink).Should().Equal("[New /a=2, New /b=1, New /c=1]");
    }

    [Fact]
    public void OnUpdates_InputTypes_AreRewrittenFromTheKeysTheSinkHolds()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();

        buffer.OnUpdates([Set("/a", 1, UpdateType.Updated), Set("/b", 1, UpdateType.Unknown)]);
        Flush(buffer, sink).Should().Equal("[New /a=1, New /b=1]");
        buffer.KeysHeldBySink.Should().Be(2);

        buffer.OnUpdates([Set("/a", 2, UpdateType.New), Set("/c", 1, UpdateType.Updated)]);
        Flush(buffer, sink).Should().Equal("[Updated /a=2, New /c=1]");
        sink.Violations.Should().BeEmpty();
    }

    [Fact]
    public void OnUpdates_DeleteOfQueuedNeverSentKey_RemovesItAndSendsNothing()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();

        buffer.OnUpdates([Set("/a", 1), Set("/b", 1)]);
        buffer.OnUpdates([Del("/a")]);

        buffer.QueueLength.Should().Be(1);
        buffer.UpdatesCoalesced.Should().Be(2, "the queued update and the delete both vanish");
        Flush(buffer, sink).Should().Equal("[New /b=1]");
        buffer.KeysHeldBySink.Should().Be(1);
    }

    [Fact]
    public void OnUpdates_DeleteOfKeyTheSinkNeverHad_IsNotForwarded()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();

        buffer.OnUpdates([Del("/never"), Set("/a", 1)]);

        buffer.QueueLength.Should().Be(1);
        buffer.UpdatesCoalesced.Should().Be(1);
        Flush(buffer, sink).Should().Equal("[New /a=1]");
    }

    [Fact]
    public void OnUpdates_DeleteOfHeldKey_IsForwardedAndAReAddAfterItIsNew()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        buffer.OnUpdates([Set("/a", 1)]);
        Flush(buffer, sink);

        buffer.OnUpdates([Del("/a")]);
        Flush(buffer, sink).Should().Equal("[Deleted /a]");
        buffer.KeysHeldBySink.Should().Be(0);

        buffer.OnUpdates([Set("/a", 2)]);
        Flush(buffer, sink).Should().Equal("[New /a=2]");
        sink.Violations.Should().BeEmpty();
    }

    [Fact]
    public void OnUpdates_DeleteThenReAddOfHeldKeyBeforeFlush_ArrivesAsOneUpdated()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        buffer.OnUpdates([Set("/a", 1), Set("/b", 1)]);
        Flush(buffer, sink);

        buffer.OnUpdates([Set("/b", 2), Del("/a")]);
        buffer.OnUpdates([Set("/a", 3)]);

        buffer.QueueLength.Should().Be(2);
        Flush(buffer, sink).Should().Equal("[Updated /b=2, Updated /a=3]");
        buffer.KeysHeldBySink.Should().Be(2);
    }

    [Fact]
    public void OnUpdates_UpdateOfHeldKeyThenDeleteBeforeFlush_ArrivesAsOneDeleted()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        buffer.OnUpdates([Set("/a", 1)]);
        Flush(buffer, sink);

        buffer.OnUpdates([Set("/a", 2), Del("/a")]);

        Flush(buffer, sink).Should().Equal("[Deleted /a]");
        buffer.KeysHeldBySink.Should().Be(0);
    }

    [Fact]
    public void OnUpdatesKeysKnown_GivenKeys_AreUsedAndMissingOnesComputed()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();

        // "/x" and "/y" share the given key "k", so the second replaces the first; null, empty and missing keys
        // fall back to DefaultPath.
        buffer.OnUpdatesKeysKnown(
            [Set("/x", 1), Set("/y", 2), Set("/z", 3), Set("/w", 4), Set("/z", 5)],
            ["k", "k", null, ""]);

        buffer.QueueLength.Should().Be(3);
        Flush(buffer, sink).Should().Equal("[New /y=2, New /z=5, New /w=4]");
    }

    [Fact]
    public void OnUpdates_UpdateWithoutPair_ThrowsAndKeepsTheUpdatesBeforeIt()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();

        Action act = () => buffer.OnUpdates([Set("/a", 1), default, Set("/b", 1)]);

        act.Should().Throw<ArgumentException>().WithParameterName("updates");
        Flush(buffer, sink).Should().Equal("[New /a=1]");
    }

    [Fact]
    public async Task OnUpdates_UpdateWithoutPairWhileSending_StillWakesTheSender()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        Task sending = buffer.SendToSinkForeverAsync(sink);
        buffer.OnStatusUpdated(SyncStatus.InSync);
        await Eventually.True(() => sink.Status == SyncStatus.InSync, "the sender delivers the status and goes idle");

        Action act = () => buffer.OnUpdates([Set("/a", 1), default]);

        act.Should().Throw<ArgumentException>();
        await Eventually.True(() => sink.UpdatesReceived == 1, "the update taken before the bad one is delivered", TimeSpan.FromSeconds(5));
        buffer.Stop();
        await Eventually.Within(sending, "Stop ends the loop");
    }

    [Fact]
    public void DrainTo_MoreUpdatesThanBatchSize_SplitsThemIntoBatches()
    {
        using var buffer = new DedupeBuffer(new DedupeBufferOptions { BatchSize = 3 });
        var sink = new RecordingSink();

        buffer.OnUpdates([.. Enumerable.Range(0, 7).Select(i => Set($"/k{i}", i))]);

        Flush(buffer, sink).Should().Equal(
            "[New /k0=0, New /k1=1, New /k2=2]",
            "[New /k3=3, New /k4=4, New /k5=5]",
            "[New /k6=6]");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(DedupeBufferOptions.MaxBatchSize + 1)]
    public void Constructor_BatchSizeOutOfRange_Throws(int batchSize)
    {
        Action act = () => new DedupeBuffer(new DedupeBufferOptions { BatchSize = batchSize }).Dispose();

        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName(nameof(DedupeBufferOptions.BatchSize));
    }

    // ---- statuses ----

    [Fact]
    public void OnStatusUpdated_RepeatOfLastStatus_IsDropped()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();

        buffer.OnStatusUpdated(SyncStatus.ResyncInProgress);
        buffer.OnUpdates([Set("/a", 1)]);
        buffer.OnStatusUpdated(SyncStatus.ResyncInProgress);

        buffer.QueueLength.Should().Be(2);
        Flush(buffer, sink).Should().Equal("Status ResyncInProgress", "[New /a=1]");
    }

    [Fact]
    public void OnStatusUpdated_BehindQueuedStatus_ReplacesIt()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();

        buffer.OnUpdates([Set("/a", 1)]);
        buffer.OnStatusUpdated(SyncStatus.ResyncInProgress);
        buffer.OnStatusUpdated(SyncStatus.WaitForDatastore);

        buffer.QueueLength.Should().Be(2);
        Flush(buffer, sink).Should().Equal("[New /a=1]", "Status WaitForDatastore");
    }

    [Fact]
    public void OnStatusUpdated_BetweenUpdates_KeepsTheOrderAndFlushesTheUpdatesBeforeIt()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();

        buffer.OnStatusUpdated(SyncStatus.ResyncInProgress);
        buffer.OnUpdates([Set("/a", 1), Set("/b", 1)]);
        buffer.OnStatusUpdated(SyncStatus.InSync);
        buffer.OnUpdates([Set("/c", 1), Set("/a", 2)]);
        buffer.OnStatusUpdated(SyncStatus.WaitForDatastore);
        buffer.OnUpdates([Set("/d", 1)]);

        Flush(buffer, sink).Should().Equal(
            "Status ResyncInProgress",
            "[New /a=2, New /b=1]",
            "Status InSync",
            "[New /c=1]",
            "Status WaitForDatastore",
            "[New /d=1]");
    }

    [Fact]
    public void OnStatusUpdated_BounceBackToTheSinksStatusWhileQueued_IsNotRepeatedToTheSink()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        buffer.OnStatusUpdated(SyncStatus.InSync);
        Flush(buffer, sink);

        buffer.OnUpdates([Set("/a", 1)]);
        buffer.OnStatusUpdated(SyncStatus.ResyncInProgress);
        buffer.OnStatusUpdated(SyncStatus.InSync);

        Flush(buffer, sink).Should().Equal("[New /a=1]");
        sink.Violations.Should().BeEmpty();
    }

    [Fact]
    public void OnUpdates_CancelledUpdatesBetweenStatuses_DoNotPileStatusesUp()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        buffer.OnStatusUpdated(SyncStatus.InSync);
        Flush(buffer, sink);

        for (int i = 0; i <= 1000; i++)
        {
            buffer.OnUpdates([Set("/a", i)]);
            buffer.OnStatusUpdated(i % 2 == 0 ? SyncStatus.ResyncInProgress : SyncStatus.InSync);
            buffer.OnUpdates([Del("/a")]);
            buffer.QueueLength.Should().BeLessThanOrEqualTo(1);
        }

        buffer.OnUpdates([Set("/b", 1)]);
        Flush(buffer, sink).Should().Equal("Status ResyncInProgress", "[New /b=1]");
    }

    [Fact]
    public async Task Complete_TheSendLoopHandsOverWhatIsQueuedThenEnds_AndLaterInputsAreIgnored()
    {
        using var buffer = new DedupeBuffer(new DedupeBufferOptions { BatchSize = 2 });
        var sink = new RecordingSink();
        buffer.OnUpdates([Set("/a", 1), Set("/b", 1), Set("/c", 1)]);
        buffer.OnStatusUpdated(SyncStatus.InSync);

        buffer.Complete();
        buffer.OnUpdates([Set("/late", 1)]);
        buffer.QueueLength.Should().Be(4, "an input after Complete is ignored");
        await Eventually.Within(buffer.SendToSinkForeverAsync(sink), "the send loop ends once the queue is empty");

        sink.Calls.Should().Equal("[New /a=1, New /b=1]", "[New /c=1]", "Status InSync");
        buffer.QueueLength.Should().Be(0);
    }

    // ---- connection restarts ----

    [Fact]
    public void OnConnectionRestarted_KeysNotSeenByTheNextInSync_AreDeletedJustBeforeIt()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        buffer.OnUpdates([Set("/a", 1), Set("/b", 1), Set("/c", 1)]);
        buffer.OnStatusUpdated(SyncStatus.InSync);
        Flush(buffer, sink);

        buffer.OnConnectionRestarted();
        buffer.OnStatusUpdated(SyncStatus.ResyncInProgress);
        buffer.OnUpdates([Set("/a", 1), Set("/d", 1)]);
        buffer.QueueLength.Should().Be(3, "nothing is deleted before the InSync");
        buffer.OnStatusUpdated(SyncStatus.InSync);

        Flush(buffer, sink).Should().Equal(
            "Status ResyncInProgress",
            "[Updated /a=1, New /d=1, Deleted /b, Deleted /c]",
            "Status InSync");
        sink.Picture().Keys.Should().BeEquivalentTo("/a", "/d");
        buffer.KeysHeldBySink.Should().Be(2);
    }

    [Fact]
    public void OnConnectionRestarted_UnseenKeyWithAnOlderQueuedUpdate_IsDeletedWithoutTheStaleValue()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        buffer.OnUpdates([Set("/a", 1), Set("/b", 1)]);
        Flush(buffer, sink);
        buffer.OnUpdates([Set("/b", 2), Set("/a", 2)]);

        buffer.OnConnectionRestarted();
        buffer.OnUpdates([Set("/a", 3)]);
        buffer.OnStatusUpdated(SyncStatus.InSync);

        Flush(buffer, sink).Should().Equal("[Updated /a=3, Deleted /b]", "Status InSync");
    }

    [Fact]
    public void OnConnectionRestarted_WhatWasQueuedBeforeIt_NeverReachesTheSink()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        buffer.OnUpdates([Set("/a", 1), Set("/c", 1)]);
        buffer.OnStatusUpdated(SyncStatus.InSync);
        Flush(buffer, sink);

        // Queued from the old connection, never sent: a new value, a new key, a delete and a status.
        buffer.OnUpdates([Set("/a", 2), Set("/b", 1), Del("/c")]);
        buffer.OnStatusUpdated(SyncStatus.ResyncInProgress);
        buffer.OnConnectionRestarted();
        buffer.QueueLength.Should().Be(0, "the resync will say again whatever still holds");

        // The sink takes a batch while the resync is under way: it sees nothing stale.
        buffer.OnStatusUpdated(SyncStatus.ResyncInProgress);
        Flush(buffer, sink).Should().Equal("Status ResyncInProgress");

        buffer.OnUpdates([Set("/a", 3)]);
        buffer.OnStatusUpdated(SyncStatus.InSync);
        Flush(buffer, sink).Should().Equal("[Updated /a=3, Deleted /c]", "Status InSync");
        sink.Picture().Keys.Should().BeEquivalentTo("/a");
        sink.Violations.Should().BeEmpty();
        buffer.KeysHeldBySink.Should().Be(1);
    }

    [Fact]
    public void OnConnectionRestarted_AfterAQueuedStatus_TheSameStatusFromTheNewConnectionIsDelivered()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        buffer.OnStatusUpdated(SyncStatus.ResyncInProgress);
        Flush(buffer, sink);
        buffer.OnStatusUpdated(SyncStatus.InSync);

        buffer.OnConnectionRestarted();
        buffer.OnStatusUpdated(SyncStatus.InSync);

        Flush(buffer, sink).Should().Equal("Status InSync");
    }

    [Fact]
    public void OnConnectionRestarted_Twice_DiscardsTheFirstPartialResync()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        buffer.OnUpdates([Set("/a", 1), Set("/b", 1), Set("/c", 1)]);
        Flush(buffer, sink);

        buffer.OnConnectionRestarted();
        buffer.OnUpdates([Set("/a", 2), Set("/b", 2)]);
        buffer.OnConnectionRestarted();
        buffer.OnUpdates([Set("/c", 3)]);
        buffer.OnStatusUpdated(SyncStatus.InSync);

        Flush(buffer, sink).Should().Equal("[Updated /c=3, Deleted /a, Deleted /b]", "Status InSync");
        sink.Picture().Keys.Should().BeEquivalentTo("/c");
    }

    [Fact]
    public void OnConnectionRestarted_QueuedNeverSentKeyNotSeen_IsDroppedWithoutADelete()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        buffer.OnUpdates([Set("/held", 1)]);
        Flush(buffer, sink);
        buffer.OnUpdates([Set("/queued", 1)]);

        buffer.OnConnectionRestarted();
        buffer.OnUpdates([Set("/held", 2)]);
        buffer.OnStatusUpdated(SyncStatus.InSync);

        Flush(buffer, sink).Should().Equal("[Updated /held=2]", "Status InSync");
        sink.Violations.Should().BeEmpty();
    }

    [Fact]
    public void OnStatusUpdated_InSyncWithoutARestart_DeletesNothing()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        buffer.OnUpdates([Set("/a", 1)]);
        buffer.OnStatusUpdated(SyncStatus.InSync);
        Flush(buffer, sink);

        buffer.OnStatusUpdated(SyncStatus.ResyncInProgress);
        buffer.OnStatusUpdated(SyncStatus.InSync);
        buffer.OnUpdates([Set("/b", 1)]);

        Flush(buffer, sink).Should().Equal("[New /b=1]");
        sink.Picture().Keys.Should().BeEquivalentTo("/a", "/b");
    }

    // ---- the send loop ----

    [Fact]
    public async Task SendToSinkForeverAsync_InputsWhileRunning_AreDeliveredInOrder()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        Task sending = buffer.SendToSinkForeverAsync(sink);

        buffer.OnStatusUpdated(SyncStatus.ResyncInProgress);
        await Eventually.True(() => sink.Status == SyncStatus.ResyncInProgress, "the first status is delivered");
        buffer.OnUpdates([Set("/a", 1)]);
        await Eventually.True(() => sink.UpdatesReceived == 1, "an update after an idle spell is delivered");
        buffer.OnUpdates([Set("/a", 2), Del("/a")]);
        buffer.OnStatusUpdated(SyncStatus.InSync);
        await Eventually.True(() => sink.Status == SyncStatus.InSync, "the InSync is delivered");

        sink.Calls.Should().Equal("Status ResyncInProgress", "[New /a=1]", "[Deleted /a]", "Status InSync");
        buffer.Stop();
        await Eventually.Within(sending, "Stop ends the loop");
    }

    [Fact(Timeout = HeavyTestTimeoutMs)]
    public async Task SendToSinkForeverAsync_SinkBlockedForSeconds_InputNeverWaitsAndQueueStaysWithinDistinctKeys()
    {
        const int distinctKeys = 10_000;
        const int minimumUpdates = 1_000_000;
        const int batchSize = 100;
        TimeSpan minimumBlocked = TimeSpan.FromSeconds(2);
        using var gate = new ManualResetEventSlim(false);
        var sink = new RecordingSink(keepCalls: false) { Gate = gate };
        using var buffer = new DedupeBuffer();
        buffer.OnUpdates([Set("/first", 0)]);

        // The sink blocks on the queued update at once; the call must still return a running task.
        Task<Task> starting = Task.Factory.StartNew(
            () => buffer.SendToSinkForeverAsync(sink), CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default);
        Task sending = await Eventually.Within(starting, "SendToSinkForeverAsync returns while the sink is blocked");
        await Eventually.True(() => sink.Entered.IsSet, "the sink is called and blocks");

        PathKey[] keys = [.. Enumerable.Range(0, distinctKeys).Select(i => new PathKey($"/k/{i}"))];
        int[] lastValue = new int[distinctKeys];
        var updates = new Update[batchSize];
        var blocked = Stopwatch.StartNew();
        int longestQueue = 0;
        int written = 0;
        while (written < minimumUpdates || blocked.Elapsed < minimumBlocked)
        {
            for (int j = 0; j < batchSize; j++, written++)
            {
                int k = written % distinctKeys;
                lastValue[k] = written;
                updates[j] = new Update(new KVPair(keys[k], written), UpdateType.Updated);
            }

            buffer.OnUpdates(updates);
            longestQueue = Math.Max(longestQueue, buffer.QueueLength);
        }

        sink.CallCount.Should().Be(1, "the sink stayed blocked while every update went in");
        written.Should().BeGreaterThanOrEqualTo(minimumUpdates);
        // No input call waited for the sink: the sink is released only below, after the last call, so a call that
        // waited would never have returned (the test's timeout would end it).
        longestQueue.Should().Be(distinctKeys, "the queue holds one item per distinct key, whatever the rate");
        buffer.UpdatesCoalesced.Should().Be(written - distinctKeys);

        gate.Set();
        await Eventually.True(() => sink.UpdatesReceived == 1 + distinctKeys, "the backlog drains once the sink is free");
        Dictionary<string, object?> picture = sink.Picture();
        picture.Should().HaveCount(1 + distinctKeys);
        for (int k = 0; k < distinctKeys; k++)
        {
            picture[keys[k].DefaultPath].Should().Be(lastValue[k]);
        }

        sink.Violations.Should().BeEmpty();
        buffer.Stop();
        await Eventually.Within(sending, "Stop ends the loop");
    }

    [Fact]
    public async Task Stop_WhileIdle_EndsSendToSinkForeverAsyncPromptlyAndLaterInputIsIgnored()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        Task sending = buffer.SendToSinkForeverAsync(sink);
        buffer.OnUpdates([Set("/a", 1)]);
        await Eventually.True(() => sink.UpdatesReceived == 1, "the update is delivered");

        buffer.Stop();

        await Eventually.Within(sending, "Stop ends the loop", TimeSpan.FromSeconds(2));
        sending.Status.Should().Be(TaskStatus.RanToCompletion);
        buffer.OnUpdates([Set("/b", 1)]);
        buffer.OnStatusUpdated(SyncStatus.InSync);
        buffer.QueueLength.Should().Be(0);
        await Eventually.Within(buffer.SendToSinkForeverAsync(sink), "a stopped buffer's loop ends at once", TimeSpan.FromSeconds(2));
        sink.CallCount.Should().Be(1);
    }

    [Fact]
    public async Task Stop_WithBacklog_EndsAfterTheBatchInProgressWithoutDraining()
    {
        using var gate = new ManualResetEventSlim(false);
        var sink = new RecordingSink { Gate = gate };
        using var buffer = new DedupeBuffer(new DedupeBufferOptions { BatchSize = 10 });
        buffer.OnUpdates([.. Enumerable.Range(0, 100).Select(i => Set($"/k{i}", i))]);
        Task sending = buffer.SendToSinkForeverAsync(sink);
        await Eventually.True(() => sink.Entered.IsSet, "the sink is called and blocks");

        buffer.Stop();
        gate.Set();

        await Eventually.Within(sending, "Stop ends the loop after the batch in progress", TimeSpan.FromSeconds(2));
        sink.CallCount.Should().Be(1);
        buffer.QueueLength.Should().Be(90);
    }

    [Fact]
    public async Task SendToSinkForeverAsync_Cancelled_EndsCancelledAndCanBeStartedAgain()
    {
        using var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        using var cts = new CancellationTokenSource();
        Task sending = buffer.SendToSinkForeverAsync(sink, cts.Token);
        buffer.OnUpdates([Set("/a", 1)]);
        await Eventually.True(() => sink.UpdatesReceived == 1, "the update is delivered");

        await cts.CancelAsync();

        Func<Task> wait = () => Eventually.Within(sending, "cancellation ends the loop", TimeSpan.FromSeconds(2));
        await wait.Should().ThrowAsync<OperationCanceledException>();
        sending.IsCanceled.Should().BeTrue();

        Task again = buffer.SendToSinkForeverAsync(sink);
        buffer.OnUpdates([Set("/a", 2)]);
        await Eventually.True(() => sink.UpdatesReceived == 2, "a new loop carries on");
        sink.Calls.Should().Equal("[New /a=1]", "[Updated /a=2]");
        buffer.Stop();
        await Eventually.Within(again, "Stop ends the loop");
    }

    [Fact]
    public async Task SendToSinkForeverAsync_SecondCallWhileSending_Throws()
    {
        using var buffer = new DedupeBuffer();
        Task sending = buffer.SendToSinkForeverAsync(new RecordingSink());

        Action second = () => buffer.SendToSinkForeverAsync(new RecordingSink());

        second.Should().Throw<InvalidOperationException>();
        buffer.Stop();
        await Eventually.Within(sending, "Stop ends the loop");
    }

    [Fact]
    public async Task Dispose_Twice_IsHarmlessAndEndsSending()
    {
        var buffer = new DedupeBuffer();
        var sink = new RecordingSink();
        buffer.OnUpdates([Set("/a", 1)]);
        Task sending = buffer.SendToSinkForeverAsync(sink);
        await Eventually.True(() => sink.UpdatesReceived == 1, "the update is delivered");

        buffer.Dispose();
        Action again = buffer.Dispose;

        again.Should().NotThrow();
        await Eventually.Within(sending, "Dispose ends the loop", TimeSpan.FromSeconds(2));
        buffer.OnUpdates([Set("/b", 1)]);
        buffer.QueueLength.Should().Be(0);
    }

    [Fact]
    public async Task SendToSinkForeverAsync_SinkThrows_FaultsWithItLogsItAndKeepsTheStateConsistent()
    {
        var logs = new FakeLogCollector();
        using var buffer = new DedupeBuffer(new DedupeBufferOptions { LoggerFactory = FakeLogs.Factory(logs) });
        var boom = new InvalidOperationException("boom");
        var failing = new RecordingSink { ThrowNext = boom };
        buffer.OnUpdates([Set("/a", 1), Set("/b", 1)]);
        buffer.OnStatusUpdated(SyncStatus.InSync);

        Task sending = buffer.SendToSinkForeverAsync(failing);

        Func<Task> wait = () => Eventually.Within(sending, "a throwing sink ends the loop");
        (await wait.Should().ThrowAsync<InvalidOperationException>()).Which.Should().BeSameAs(boom);
        logs.GetSnapshot().Should().ContainSingle(e => e.Id.Id == 2000).Which.Exception.Should().BeSameAs(boom);
        buffer.KeysHeldBySink.Should().Be(2, "the batch the sink threw on counts as delivered");
        buffer.QueueLength.Should().Be(1, "the status after that batch is still queued");

        buffer.OnUpdates([Set("/a", 2), Del("/b"), Set("/c", 1)]);
        var healthy = new RecordingSink();
        Task again = buffer.SendToSinkForeverAsync(healthy);
        await Eventually.True(() => healthy.UpdatesReceived == 3, "a new loop carries on from the next item");
        healthy.Calls.Should().Equal("Status InSync", "[Updated /a=2, Deleted /b, New /c=1]");
        buffer.KeysHeldBySink.Should().Be(2);
        buffer.Stop();
        await Eventually.Within(again, "Stop ends the loop");
    }

    [Fact]
    public async Task SendToSinkForeverAsync_SinkThrowsOnAStatus_FaultsAndTheStatusCountsAsDelivered()
    {
        using var buffer = new DedupeBuffer();
        var failing = new RecordingSink { ThrowNext = new InvalidOperationException("status") };
        buffer.OnStatusUpdated(SyncStatus.InSync);

        Func<Task> wait = () => Eventually.Within(buffer.SendToSinkForeverAsync(failing), "a throwing sink ends the loop");

        await wait.Should().ThrowAsync<InvalidOperationException>().WithMessage("status");
        buffer.OnStatusUpdated(SyncStatus.ResyncInProgress);
        buffer.OnStatusUpdated(SyncStatus.InSync);
        buffer.OnUpdates([Set("/a", 1)]);
        var healthy = new RecordingSink();
        buffer.DrainTo(healthy);
        healthy.Calls.Should().Equal("[New /a=1]");
    }

    // ---- memory ----

    [Fact(Timeout = HeavyTestTimeoutMs)]
    public async Task SendToSinkForeverAsync_BacklogOfAMillionKeysDrains_KeyMapShrinksAndMemoryDropsBack()
    {
        const int backlog = 1_000_000;
        using var gate = new ManualResetEventSlim(false);
        var sink = new RecordingSink(keepCalls: false, trackKeys: false) { Gate = gate };
        using var buffer = new DedupeBuffer();
        long before = GC.GetTotalMemory(forceFullCollection: true);
        int capacityBefore = buffer.KeyMapCapacity;
        buffer.OnUpdates([Set("/first", 0)]);
        Task sending = buffer.SendToSinkForeverAsync(sink);
        await Eventually.True(() => sink.Entered.IsSet, "the sink is called and blocks");

        FeedKeys(buffer, backlog, delete: false);
        buffer.QueueLength.Should().Be(backlog);
        int peakCapacity = buffer.KeyMapCapacity;
        long peakMemory = GC.GetTotalMemory(forceFullCollection: true);
        peakCapacity.Should().BeGreaterThanOrEqualTo(backlog);

        gate.Set();
        await Eventually.True(() => sink.UpdatesReceived == backlog + 1, "the backlog of new keys drains");
        buffer.KeysHeldBySink.Should().Be(backlog + 1);
        FeedKeys(buffer, backlog, delete: true);
        await Eventually.True(() => sink.DeletedReceived == backlog, "the backlog of deletes drains");

        buffer.KeysHeldBySink.Should().Be(1);
        buffer.QueueLength.Should().Be(0);
        buffer.KeyMapCapacity.Should().BeLessThan(DedupeBuffer.ShrinkThreshold, "the map shrinks back after the keys go");
        long after = GC.GetTotalMemory(forceFullCollection: true);
        (after - before).Should().BeLessThan((peakMemory - before) / 20, "memory follows the live keys, not the peak");
        capacityBefore.Should().BeLessThan(DedupeBuffer.ShrinkThreshold);
        buffer.Stop();
        await Eventually.Within(sending, "Stop ends the loop");
    }

    // ---- concurrency ----

    [Fact(Timeout = HeavyTestTimeoutMs)]
    public async Task SendToSinkForeverAsync_SeveralProducersOneSlowSink_SinkPictureEqualsTheLastValuePerKey()
    {
        const int producers = 4;
        const int keysPerProducer = 500;
        const int updatesPerProducer = 100_000;
        var sink = new RecordingSink(keepCalls: false) { SpinIterations = 5_000 };
        using var buffer = new DedupeBuffer(new DedupeBufferOptions { BatchSize = 64 });
        Task sending = buffer.SendToSinkForeverAsync(sink);

        Task<Dictionary<string, int?>>[] running =
            [.. Enumerable.Range(0, producers).Select(p => Task.Run(() => Produce(buffer, p, keysPerProducer, updatesPerProducer)))];
        Dictionary<string, int?>[] finals = await Eventually.Within(Task.WhenAll(running), "the producers finish");

        var expected = finals.SelectMany(f => f).Where(kv => kv.Value is not null).ToDictionary(kv => kv.Key, kv => (object?)kv.Value);
        await Eventually.True(() => buffer.QueueLength == 0 && SamePicture(sink.Picture(), expected), "the sink catches up with the last value per key");
        sink.Picture().Should().BeEquivalentTo(expected);
        sink.Violations.Should().BeEmpty();
        buffer.KeysHeldBySink.Should().Be(expected.Count);
        buffer.UpdatesCoalesced.Should().BePositive("the sink was slow enough for updates to be merged");
        sink.UpdatesReceived.Should().BeLessThan(producers * updatesPerProducer);
        buffer.Stop();
        await Eventually.Within(sending, "Stop ends the loop");
    }

    // ---- metrics ----

    [Fact]
    public void Figures_AreObservableOnTheWatcherSyncMeter()
    {
        using var factory = new TestMeterFactory();
        using var buffer = new DedupeBuffer(new DedupeBufferOptions { MeterFactory = factory });
        var sink = new RecordingSink();
        buffer.OnUpdates([Set("/a", 1), Set("/b", 1), Set("/c", 1)]);
        buffer.DrainTo(sink);
        buffer.OnUpdates([Set("/a", 2), Set("/a", 3), Set("/d", 1)]);

        Dictionary<string, (string? Unit, long Value)> seen = Observe(factory);

        factory.Meters.Should().ContainSingle().Which.Name.Should().Be(WatcherSyncMeter.Name);
        seen.Should().BeEquivalentTo(new Dictionary<string, (string?, long)>
        {
            ["watchersync.dedupe.queue.length"] = ("{item}", 2),
            ["watchersync.dedupe.keys.held"] = ("{key}", 3),
            ["watchersync.dedupe.updates.coalesced"] = ("{update}", 1),
        });
    }

    [Fact]
    public void Dispose_WithAFactorysMeter_StopsReportingFigures()
    {
        using var factory = new TestMeterFactory();
        var buffer = new DedupeBuffer(new DedupeBufferOptions { MeterFactory = factory });
        buffer.OnUpdates([Set("/a", 1)]);
        Observe(factory).Should().HaveCount(3);

        buffer.Dispose();

        Observe(factory).Should().BeEmpty();
    }

    [Fact]
    public void Dispose_WithItsOwnMeter_DisposesTheMeter()
    {
        var published = new List<Instrument>();
        var completed = new List<Instrument>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == WatcherSyncMeter.Name && instrument.Name.StartsWith("watchersync.dedupe.", StringComparison.Ordinal))
            {
                published.Add(instrument);
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.MeasurementsCompleted = (instrument, _) => completed.Add(instrument);
        listener.Start();
        published.Clear();
        var buffer = new DedupeBuffer();
        Instrument[] mine = [.. published];

        buffer.Dispose();

        mine.Should().HaveCount(3);
        completed.Should().BeEquivalentTo(mine);
    }

    // ---- helpers ----

    private static Update Set(string key, object value, UpdateType type = UpdateType.New) => new(new KVPair(new PathKey(key), value), type);

    private static Update Del(string key) => new(new KVPair(new PathKey(key), null), UpdateType.Deleted);

    /// <summary>Delivers what is queued now to <paramref name="sink"/> and returns the calls that made.</summary>
    private static List<string> Flush(DedupeBuffer buffer, RecordingSink sink)
    {
        int before = sink.Calls.Count;
        buffer.DrainTo(sink);
        return [.. sink.Calls.Skip(before)];
    }

    private static void FeedKeys(DedupeBuffer buffer, int count, bool delete)
    {
        var batch = new Update[1000];
        for (int n = 0; n < count; n += batch.Length)
        {
            for (int j = 0; j < batch.Length; j++)
            {
                batch[j] = delete ? Del($"/k/{n + j}") : Set($"/k/{n + j}", n + j);
            }

            buffer.OnUpdates(batch);
        }
    }

    /// <summary>Writes random sets and deletes to its own keys, in random batches; returns the last value per key (null = deleted).</summary>
    private static Dictionary<string, int?> Produce(DedupeBuffer buffer, int producer, int keys, int updates)
    {
        var random = new Random(producer);
        var last = new Dictionary<string, int?>(StringComparer.Ordinal);
        int written = 0;
        while (written < updates)
        {
            int size = Math.Min(random.Next(1, 50), updates - written);
            var batch = new Update[size];
            var batchKeys = new string?[size];
            for (int j = 0; j < size; j++, written++)
            {
                string key = $"/p{producer}/k{random.Next(keys)}";
                bool delete = random.Next(10) == 0;
                batch[j] = delete ? Del(key) : Set(key, written);
                batchKeys[j] = random.Next(2) == 0 ? key : null;
                last[key] = delete ? null : written;
            }

            if (random.Next(2) == 0)
            {
                buffer.OnUpdates(batch);
            }
            else
            {
                buffer.OnUpdatesKeysKnown(batch, batchKeys);
            }

            if (producer == 0 && random.Next(100) == 0)
            {
                buffer.OnStatusUpdated((SyncStatus)random.Next(3));
            }
        }

        return last;
    }

    private static bool SamePicture(Dictionary<string, object?> picture, Dictionary<string, object?> expected) =>
        picture.Count == expected.Count && expected.All(kv => picture.TryGetValue(kv.Key, out object? v) && Equals(v, kv.Value));

    /// <summary>Reads every dedupe instrument on the factory's meters once: name → (unit, value).</summary>
    private static Dictionary<string, (string? Unit, long Value)> Observe(TestMeterFactory factory)
    {
        var seen = new Dictionary<string, (string? Unit, long Value)>();
        using var queue = new MetricCollector<int>(factory, WatcherSyncMeter.Name, "watchersync.dedupe.queue.length");
        using var held = new MetricCollector<int>(factory, WatcherSyncMeter.Name, "watchersync.dedupe.keys.held");
        using var coalesced = new MetricCollector<long>(factory, WatcherSyncMeter.Name, "watchersync.dedupe.updates.coalesced");
        Add(queue);
        Add(held);
        Add(coalesced);
        return seen;

        void Add<T>(MetricCollector<T> collector)
            where T : struct
        {
            collector.RecordObservableInstruments();
            if (collector.LastMeasurement is { } last)
            {
                seen[collector.Instrument!.Name] = (collector.Instrument.Unit, Convert.ToInt64(last.Value, System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }
}
