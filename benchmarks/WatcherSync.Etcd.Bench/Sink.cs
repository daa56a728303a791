using System.Diagnostics;

namespace WatcherSync.Etcd.Bench;

internal sealed class Sink : ISyncerCallbacks
{
    private readonly List<double> _latencies = [];
    private long _count;
    private long _lastDelivered;

    public TaskCompletionSource InSync { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long Count => Interlocked.Read(ref _count);

    public long LastDelivered => Interlocked.Read(ref _lastDelivered);

    public void OnStatusUpdated(SyncStatus status)
    {
        if (status == SyncStatus.InSync)
        {
            InSync.TrySetResult();
        }
    }

    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        long now = Stopwatch.GetTimestamp();
        foreach (Update update in updates)
        {
            if (update.KVPair.Value is byte[] { Length: 8 } stamp)
            {
                _latencies.Add(Stopwatch.GetElapsedTime(BitConverter.ToInt64(stamp), now).TotalMilliseconds);
            }
        }

        Interlocked.Add(ref _count, updates.Count);
        Interlocked.Exchange(ref _lastDelivered, now);
    }

    public void Reset()
    {
        Interlocked.Exchange(ref _count, 0);
        _latencies.Clear();
    }

    public double[] LatenciesMs() => [.. _latencies];
}
