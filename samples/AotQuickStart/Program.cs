using System.Text.Json.Serialization;
using WatcherSync;
using WatcherSync.Etcd;
using WatcherSync.InMemory;

// The README QuickStart, published as native AOT: on the embedded datastore, or on etcd with --etcd <endpoint>.
// On etcd the values are JSON, through a source-generated contract (no reflection), under --key-prefix (default
// /aot-quickstart) so that runs do not see each other's keys. `hosted` runs a host configured from configuration instead.
if (args is ["hosted", .. var hostArgs])
{
    return await Hosted.RunAsync(hostArgs);
}

string? endpoint = Option(args, "--etcd");
await using IBackendClient store = endpoint is null
    ? new InMemoryBackend()
    : new EtcdBackendClient(new EtcdClientOptions
    {
        Endpoints = [endpoint],
        KeyPrefix = Option(args, "--key-prefix") ?? "/aot-quickstart",
        Codec = JsonValueCodec.For(PodJson.Default.Pod),
    });
Console.WriteLine($"backend: {(endpoint is null ? "embedded" : "etcd")}");
await store.CreateAsync(new KVPair(new PathKey("/registry/pods/web-1"), new Pod("running")));

// List-then-watch one prefix; callbacks are never called concurrently.
var web1Gone = new TaskCompletionSource();
await using ISyncer syncer = store.CreateSyncer([new ResourceType(new PrefixListOptions("/registry/pods/"))], new SyncerCallbacks
{
    OnStatusUpdated = status => Console.WriteLine($"status: {status}"),
    OnUpdates = updates =>
    {
        foreach (Update update in updates)
        {
            string phase = update.KVPair.Value is Pod pod ? pod.Phase : "(gone)";
            Console.WriteLine($"{update.UpdateType} {update.KVPair.Key.DefaultPath} = {phase}");
            if (update is { UpdateType: UpdateType.Deleted, KVPair.Key.DefaultPath: "/registry/pods/web-1" })
            {
                web1Gone.TrySetResult();
            }
        }
    },
});
syncer.Start();
await syncer.WaitForInSyncAsync();

await store.CreateAsync(new KVPair(new PathKey("/registry/pods/web-2"), new Pod("pending")));
await store.UpdateAsync(new KVPair(new PathKey("/registry/pods/web-2"), new Pod("running")));
await store.DeleteAsync(new PathKey("/registry/pods/web-1"));
await web1Gone.Task.WaitAsync(TimeSpan.FromSeconds(10));   // the last change has reached the callbacks
Console.WriteLine("done");
return 0;

static string? Option(string[] args, string name)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
}

/// <summary>A pod's state, the value stored under each key.</summary>
internal sealed record Pod(string Phase);

/// <summary>The source-generated JSON contract of <see cref="Pod"/>, so the etcd codec needs no reflection.</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Pod))]
internal sealed partial class PodJson : JsonSerializerContext;
