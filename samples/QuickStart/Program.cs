using WatcherSync;
using WatcherSync.InMemory;

// The embedded datastore; swap in WatcherSync.Etcd.EtcdBackendClient for etcd.
await using var store = new InMemoryBackend();
await store.CreateAsync("/registry/pods/web-1", "running");

// List-then-watch one prefix; callbacks are never called concurrently.
var web1Gone = new TaskCompletionSource();
await using ISyncer syncer = store.CreateSyncer([new ResourceType(new PrefixListOptions("/registry/pods/"))], new SyncerCallbacks
{
    OnStatusUpdated = status => Console.WriteLine($"status: {status}"),
    OnUpdates = updates =>
    {
        foreach (Update update in updates)
        {
            Console.WriteLine($"{update.UpdateType,-8} {update.KVPair.Key.DefaultPath} = {update.KVPair.Value ?? "(gone)"} @ {update.KVPair.Revision}");
            if (update is { UpdateType: UpdateType.Deleted, KVPair.Key.DefaultPath: "/registry/pods/web-1" })
            {
                web1Gone.TrySetResult();
            }
        }
    },
});
syncer.Start();
await syncer.WaitForInSyncAsync();

await store.CreateAsync("/registry/pods/web-2", "pending");
await store.UpdateAsync("/registry/pods/web-2", "running");
await store.DeleteAsync("/registry/pods/web-1");
await web1Gone.Task.WaitAsync(TimeSpan.FromSeconds(10));   // the last change has reached the callbacks
