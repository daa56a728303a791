namespace WatcherSync.Snippets;

/// <summary>The user's sink of the hosting examples: takes updates and does nothing with them.</summary>
public class MirrorSink : ISyncerCallbacks
{
    public void OnStatusUpdated(SyncStatus status)
    {
    }

    public void OnUpdates(IReadOnlyList<Update> updates)
    {
    }
}

/// <summary>A second sink of the hosting examples.</summary>
public sealed class AuditSink : MirrorSink;

/// <summary>A third sink of the hosting examples.</summary>
public sealed class SlowSink : MirrorSink;

/// <summary>The user's update processor of the examples: passes values through.</summary>
public class MyProcessor : ISyncerUpdateProcessor
{
    public IReadOnlyList<KVPair> Process(KVPair kv) => [kv];

    public void OnSyncerStarting()
    {
    }
}

/// <summary>The relay example's processor.</summary>
public sealed class PolicyProcessor : MyProcessor;
