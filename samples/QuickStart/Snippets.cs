using WatcherSync;
using WatcherSync.Etcd;

/// <summary>
/// The README's smaller examples, compiled so that they cannot rot. A test checks that README.md shows each region
/// between a "snippet:" line and an "end" line exactly as written here.
/// </summary>
internal static class Snippets
{
    public static async Task EtcdAsync(ISyncerCallbacks callbacks)
    {
        // snippet:etcd
        await using var etcd = new EtcdBackendClient(new EtcdClientOptions
        {
            Endpoints = { "http://127.0.0.1:2379" },
        });
        await using ISyncer syncer = etcd.CreateSyncer([new ResourceType(new PrefixListOptions("/registry/"))], callbacks);
        // end
    }

    public static async Task DedupeAsync(IBackendClient store, ResourceType[] resourceTypes, ISyncerCallbacks slowSink, CancellationToken cancellationToken)
    {
        // snippet:dedupe
        using var buffer = new DedupeBuffer();                        // the syncer's callbacks: never blocks the syncer
        await using ISyncer syncer = store.CreateSyncer(resourceTypes, buffer);
        syncer.Start();
        await buffer.SendToSinkForeverAsync(slowSink, cancellationToken);   // the sink gets coalesced batches
        // end
    }

    public static async Task FollowerAsync(IBackendClient store, ResourceType[] resourceTypes, CancellationToken cancellationToken)
    {
        // snippet:follower
        await Follower.RunAsync(store, resourceTypes, new SimpleFollower<KVPair>
        {
            FilterFn = kv => kv.Key.DefaultPath.Contains("/web-", StringComparison.Ordinal),
            OnNewUpdated = (previous, current) => { Console.WriteLine($"{current.Key} is {current.Value}"); return ValueTask.CompletedTask; },
            OnDeleted = previous => { Console.WriteLine($"{previous.Key} is gone"); return ValueTask.CompletedTask; },
        }, cancellationToken);
        // end
    }
}
