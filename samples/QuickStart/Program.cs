using WatcherSync;
using WatcherSync.InMemory;

// The embedded datastore; swap in WatcherSync.Etcd.EtcdBackendClient for etcd.
await using var store = new InMemoryBackend();
await store.CreateAsync(new KVPair(new PathKey("/registry/pods/web-1"), "running"));

// List-then-watch one prefix; callbacks are never called concurrently.
var callbacks = new PrintingCallbacks();
await using ISyncer syncer = store.CreateSyncer([new ResourceType(new PrefixListOptions("/registry/pods/"))], callbacks);
syncer.Start();
await callbacks.InSync.Task;

await store.CreateAsync(new KVPair(new PathKey("/registry/pods/web-2"), "pending"));
await store.UpdateAsync(new KVPair(new PathKey("/registry/pods/web-2"), "running"));
await store.DeleteAsync(new PathKey("/registry/pods/web-1"));
await callbacks.Seen(4).WaitAsync(TimeSpan.FromSeconds(10));

internal sealed class PrintingCallbacks : ISyncerCallbacks
{
    private readonly List<(int Count, TaskCompletionSource Done)> _waits = [];
    private int _updates;

    public TaskCompletionSource InSync { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void OnStatusUpdated(SyncStatus status)
    {
        Console.WriteLine($"status: {status}");
        if (status == SyncStatus.InSync)
        {
            InSync.TrySetResult();
        }
    }

    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        foreach (Update update in updates)
        {
            Console.WriteLine($"{update.UpdateType,-8} {update.KVPair.Key.DefaultPath} = {update.KVPair.Value ?? "(gone)"} @ {update.KVPair.Revision}");
        }

        lock (_waits)
        {
            _updates += updates.Count;
            _waits.RemoveAll(w => _updates >= w.Count && w.Done.TrySetResult());
        }
    }

    public Task Seen(int count)
    {
        lock (_waits)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_updates >= count)
            {
                done.SetResult();
            }
            else
            {
                _waits.Add((count, done));
            }

            return done.Task;
        }
    }
}
