namespace WatcherSync.Cli.Demo;

/// <summary>What the writers (and the compactor's bursts) did to the store; shared, updated with interlocked adds.</summary>
internal sealed class WriteCounters
{
    private long _creates;
    private long _updates;
    private long _burstUpdates;
    private long _deletes;
    private long _compactorUpdates;

    public long Creates => Interlocked.Read(ref _creates);

    /// <summary>Gets the updates, bursts included.</summary>
    public long Updates => Interlocked.Read(ref _updates);

    /// <summary>Gets the updates made in bursts on hot keys (part of <see cref="Updates"/>).</summary>
    public long BurstUpdates => Interlocked.Read(ref _burstUpdates);

    /// <summary>Gets the updates the compactor wrote to leave the watches behind (part of <see cref="Updates"/>).</summary>
    public long CompactorUpdates => Interlocked.Read(ref _compactorUpdates);

    public long Deletes => Interlocked.Read(ref _deletes);

    public long Total => Creates + Updates + Deletes;

    public void Created() => Interlocked.Increment(ref _creates);

    public void Deleted() => Interlocked.Increment(ref _deletes);

    public void UpdatedByCompactor()
    {
        Interlocked.Increment(ref _updates);
        Interlocked.Increment(ref _compactorUpdates);
    }

    public void Updated(bool inBurst)
    {
        Interlocked.Increment(ref _updates);
        if (inBurst)
        {
            Interlocked.Increment(ref _burstUpdates);
        }
    }
}
