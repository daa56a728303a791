using System.Globalization;
using WatcherSync.InMemory;

namespace WatcherSync.Cli.Demo;

/// <summary>
/// Forces relists, as compaction does to a consumer that falls behind on etcd. The in-memory store only fails
/// watches that still have compacted events to deliver, so every round stalls the syncer's callbacks (a long pause
/// in the consumer), writes a burst larger than the syncer can buffer, and compacts the store at its newest
/// revision while the watches are behind: they get RevisionExpired and their caches relist.
/// </summary>
internal sealed class DemoCompactor
{
    /// <summary>Keys of its own, one per watched kind, so the compactor never races a writer.</summary>
    private const int KeysPerKind = 4;

    private readonly InMemoryBackend _store;
    private readonly SyncerTap _tap;
    private readonly WriteCounters _counters;
    private readonly TimeSpan _every;
    private readonly int _burst;
    private readonly PathKey[] _keys;
    private long _generation;
    private int _rounds;

    /// <param name="store">The store to write and compact.</param>
    /// <param name="tap">The syncer's callbacks, stalled during a round.</param>
    /// <param name="counters">Where the burst's writes are counted.</param>
    /// <param name="every">The time between rounds.</param>
    /// <param name="burst">
    /// Writes per round; it must exceed what the syncer can hold while its callbacks are stalled, or the watches keep up.
    /// </param>
    public DemoCompactor(InMemoryBackend store, SyncerTap tap, WriteCounters counters, TimeSpan every, int burst)
    {
        _store = store;
        _tap = tap;
        _counters = counters;
        _every = every;
        _burst = burst;
        _keys = [.. KeySpace.WatchedPrefixes.SelectMany(prefix => Enumerable.Range(0, KeysPerKind)
            .Select(i => new PathKey(string.Create(CultureInfo.InvariantCulture, $"{prefix}compaction-burst-{i}"))))];
    }

    /// <summary>Gets the number of compactions made.</summary>
    public int Rounds => Volatile.Read(ref _rounds);

    /// <summary>Runs a round every period until cancelled; cancellation ends it normally.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(_every);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                await RoundAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task RoundAsync(CancellationToken cancellationToken)
    {
        using (_tap.Stall())
        {
            for (int i = 0; i < _burst; i++)
            {
                PathKey key = _keys[i % _keys.Length];
                long generation = ++_generation;
                await _store.ApplyAsync(new KVPair(key, string.Create(CultureInfo.InvariantCulture, $"{{\"gen\":{generation}}}")), cancellationToken);
                _counters.UpdatedByCompactor();
            }

            try
            {
                _store.Compact(_store.Revision);
                Interlocked.Increment(ref _rounds);
            }
            catch (RevisionExpiredException)
            {
                // A small history already compacted past this revision by itself.
            }
        }
    }
}
