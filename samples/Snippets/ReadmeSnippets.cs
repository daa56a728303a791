using WatcherSync;
using WatcherSync.Etcd;
using WatcherSync.Relay;

namespace WatcherSync.Snippets;

/// <summary>The smaller examples of README.md (see Snippets.csproj for how they are checked).</summary>
public static class ReadmeSnippets
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

    public static async Task<string?> TypedValuesAsync()
    {
        // snippet:typed_values
        await using var etcd = new EtcdBackendClient(new EtcdClientOptions
        {
            Endpoints = { "http://127.0.0.1:2379" },
            Codec = Utf8StringCodec.Instance,                       // values are UTF-8 text: strings in, strings out
        });
        await etcd.ApplyAsync("/config/mode", "fast");
        KVPair? mode = await etcd.TryGetAsync("/config/mode");     // null when the key is absent
        string? text = mode?.As<string>().Value;                   // KVPair<string>: no cast, no decoding by hand
        // end
        return text;
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

    public static ISyncer RelayClient(ISyncerCallbacks callbacks)
    {
        // snippet:relay_client
        // ISyncer syncer = new WatcherSyncer(backend, resourceTypes, callbacks);
        ISyncer syncer = new RelaySyncer(new RelaySyncerOptions { Endpoints = { new("https://relay-a:5473"), new("https://relay-b:5473") } }, callbacks);
        // end
        return syncer;
    }
}
