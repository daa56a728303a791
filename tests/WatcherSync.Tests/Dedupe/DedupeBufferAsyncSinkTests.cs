using FluentAssertions;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Tests.Dedupe;

/// <summary>The send loop with a sink that awaits its I/O (<see cref="IAsyncSyncerCallbacks"/>).</summary>
public sealed class DedupeBufferAsyncSinkTests
{
    [Fact]
    public async Task AsyncSink_GetsCoalescedBatchesAndStatusesInOrder_WhileItAwaits()
    {
        using var buffer = new DedupeBuffer();
        var sink = new GatedAsyncSink();
        using var stop = new CancellationTokenSource();
        Task sending = buffer.SendToSinkForeverAsync(sink, stop.Token);

        buffer.OnStatusUpdated(SyncStatus.ResyncInProgress);
        await Eventually.True(() => sink.Calls.Count == 1, "the first status reaches the sink, which now awaits");

        // While the sink awaits its I/O, the syncer's side goes on and the buffer coalesces per key.
        for (int i = 0; i < 100; i++)
        {
            buffer.OnUpdates([new Update(new KVPair(new PathKey("/k"), i), i == 0 ? UpdateType.New : UpdateType.Updated)]);
        }

        buffer.OnStatusUpdated(SyncStatus.InSync);
        sink.Open();
        await Eventually.True(() => sink.Calls.Count == 3, "the rest reaches the sink");

        sink.Calls.Should().Equal("status ResyncInProgress", "updates /k=99", "status InSync");
        sink.MostAtOnce.Should().Be(1, "calls are never concurrent");
        await stop.CancelAsync();
        Func<Task> ending = () => Eventually.Within(sending, "the loop ends on cancellation");
        await ending.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task AsyncSink_ThatThrows_FaultsTheLoop_AndANewLoopCarriesOnFromTheNextItem()
    {
        using var buffer = new DedupeBuffer();
        var failing = new GatedAsyncSink { ThrowOn = "updates /bad=1" };
        failing.Open();
        buffer.OnUpdates([new Update(new KVPair(new PathKey("/bad"), 1), UpdateType.New)]);
        buffer.OnStatusUpdated(SyncStatus.InSync);

        Func<Task> first = () => Eventually.Within(buffer.SendToSinkForeverAsync(failing), "the loop faults");
        await first.Should().ThrowAsync<InvalidOperationException>().WithMessage("sink broke");

        var next = new GatedAsyncSink();
        next.Open();
        buffer.Complete();
        await Eventually.Within(buffer.SendToSinkForeverAsync(next), "a completed buffer's loop ends once it is empty");
        next.Calls.Should().Equal("status InSync");
    }

    private sealed class GatedAsyncSink : IAsyncSyncerCallbacks
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly List<string> _calls = [];
        private int _inside;

        public string? ThrowOn { get; init; }

        public int MostAtOnce { get; private set; }

        public IReadOnlyList<string> Calls
        {
            get
            {
                lock (_calls)
                {
                    return [.. _calls];
                }
            }
        }

        public void Open() => _gate.TrySetResult();

        public ValueTask OnStatusUpdatedAsync(SyncStatus status, CancellationToken cancellationToken) => RecordAsync($"status {status}");

        public ValueTask OnUpdatesAsync(IReadOnlyList<Update> updates, CancellationToken cancellationToken) =>
            RecordAsync("updates " + string.Join(",", updates.Select(u => $"{u.KVPair.Key.DefaultPath}={u.KVPair.Value}")));

        private async ValueTask RecordAsync(string call)
        {
            int inside = Interlocked.Increment(ref _inside);
            MostAtOnce = Math.Max(MostAtOnce, inside);
            lock (_calls)
            {
                _calls.Add(call);
            }

            try
            {
                if (call == ThrowOn)
                {
                    throw new InvalidOperationException("sink broke");
                }

                await _gate.Task;
            }
            finally
            {
                Interlocked.Decrement(ref _inside);
            }
        }
    }
}
