namespace WatcherSync.Cli.Demo;

/// <summary>
/// A follower of the failed pods: it runs a syncer of its own over the pods and keeps the view
/// <see cref="Follower.RunAsync"/> hands it, counting what entered, changed and left.
/// </summary>
internal sealed class DemoFollower
{
    private readonly Lock _sync = new();
    private readonly Dictionary<string, KVPair> _view = new(StringComparer.Ordinal);
    private long _new;
    private long _updated;
    private long _deleted;
    private long _batches;

    public long New => Interlocked.Read(ref _new);

    public long Updated => Interlocked.Read(ref _updated);

    public long Deleted => Interlocked.Read(ref _deleted);

    public long Batches => Interlocked.Read(ref _batches);

    public int ViewCount
    {
        get
        {
            lock (_sync)
            {
                return _view.Count;
            }
        }
    }

    public static IListOptions Prefix { get; } = new PrefixListOptions(KeySpace.PodsPrefix);

    public Task RunAsync(IBackendClient store, CancellationToken cancellationToken)
    {
        var follower = new SimpleFollower<KVPair>
        {
            FilterFn = DemoValues.IsFailedPod,
            OnNewUpdated = (previous, current) =>
            {
                lock (_sync)
                {
                    _view[current.Key.DefaultPath] = current;
                }

                Interlocked.Increment(ref previous is null ? ref _new : ref _updated);
                return ValueTask.CompletedTask;
            },
            OnDeleted = previous =>
            {
                lock (_sync)
                {
                    _view.Remove(previous.Key.DefaultPath);
                }

                Interlocked.Increment(ref _deleted);
                return ValueTask.CompletedTask;
            },
            OnBatchDone = () =>
            {
                Interlocked.Increment(ref _batches);
                return ValueTask.CompletedTask;
            },
        };
        return Follower.RunAsync(store, [new ResourceType(Prefix)], follower, cancellationToken);
    }

    /// <summary>A copy of the follower's view, key → pair.</summary>
    public Dictionary<string, KVPair> Snapshot()
    {
        lock (_sync)
        {
            return new Dictionary<string, KVPair>(_view, StringComparer.Ordinal);
        }
    }
}
