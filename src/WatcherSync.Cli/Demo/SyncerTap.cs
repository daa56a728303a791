using System.Diagnostics;

namespace WatcherSync.Cli.Demo;

/// <summary>
/// The syncer's callbacks: counts what comes in, keeps the status timeline and passes everything on to the dedupe
/// buffer. <see cref="Stall"/> holds the syncer's callback loop for a moment, like a long pause in a consumer, so the
/// compactor can show what happens to watches that fall behind.
/// </summary>
internal sealed class SyncerTap : ISyncerCallbacks, ISyncFailCallbacks, IDisposable
{
    private readonly ISyncerCallbacks _next;
    private readonly Func<int> _queueLength;
    private readonly Stopwatch _clock;
    private readonly ManualResetEventSlim _running = new(initialState: true);
    private readonly Lock _sync = new();
    private readonly List<StatusChange> _timeline = [];
    private readonly List<string> _failures = [];
    private long _updates;
    private long _batches;
    private int _peakQueueLength;

    /// <param name="next">Where the callbacks go on to (the dedupe buffer).</param>
    /// <param name="clock">The demo's clock, for the timeline.</param>
    /// <param name="queueLength">The depth of <paramref name="next"/>'s queue, sampled after each batch.</param>
    public SyncerTap(ISyncerCallbacks next, Stopwatch clock, Func<int> queueLength)
    {
        _next = next;
        _clock = clock;
        _queueLength = queueLength;
    }

    /// <summary>Gets the updates the syncer delivered.</summary>
    public long UpdatesIn => Interlocked.Read(ref _updates);

    /// <summary>Gets the number of <see cref="OnUpdates"/> calls.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Gets the deepest the next stage's queue was seen, right after a batch went in.</summary>
    public int PeakQueueLength => Volatile.Read(ref _peakQueueLength);

    /// <summary>Gets the last status announced; WaitForDatastore before the first.</summary>
    public SyncStatus Status
    {
        get
        {
            lock (_sync)
            {
                return _timeline.Count == 0 ? SyncStatus.WaitForDatastore : _timeline[^1].Status;
            }
        }
    }

    public IReadOnlyList<StatusChange> Timeline
    {
        get
        {
            lock (_sync)
            {
                return [.. _timeline];
            }
        }
    }

    /// <summary>Gets the errors the syncer reported through <see cref="SyncFailed"/>.</summary>
    public IReadOnlyList<string> Failures
    {
        get
        {
            lock (_sync)
            {
                return [.. _failures];
            }
        }
    }

    public void OnStatusUpdated(SyncStatus status)
    {
        lock (_sync)
        {
            _timeline.Add(new StatusChange(_clock.Elapsed, status));
        }

        _next.OnStatusUpdated(status);
    }

    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        _running.Wait();
        Interlocked.Add(ref _updates, updates.Count);
        Interlocked.Increment(ref _batches);
        _next.OnUpdates(updates);

        // Only the syncer's single callback loop writes the peak.
        int depth = _queueLength();
        if (depth > _peakQueueLength)
        {
            Volatile.Write(ref _peakQueueLength, depth);
        }
    }

    public void SyncFailed(Exception error)
    {
        lock (_sync)
        {
            _failures.Add(CliErrors.Describe(error));
        }
    }

    /// <summary>Holds the next callbacks until the returned scope is disposed.</summary>
    public StallScope Stall()
    {
        _running.Reset();
        return new StallScope(_running);
    }

    public void Dispose() => _running.Dispose();

    /// <summary>Releases the stalled callbacks when disposed.</summary>
    internal readonly struct StallScope(ManualResetEventSlim running) : IDisposable
    {
        public void Dispose() => running.Set();
    }
}
