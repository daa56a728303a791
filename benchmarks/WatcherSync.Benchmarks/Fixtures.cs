using WatcherSync.InMemory;

namespace WatcherSync.Benchmarks;

/// <summary>Keys, values and stores shared by the in-memory, syncer and follower benchmarks.</summary>
internal static class Fixtures
{
    /// <summary>The prefix of resource type <paramref name="type"/>; every type's keys share the same shape.</summary>
    public static string Prefix(int type) => $"/calico/v1/t{type}/";

    /// <summary>The path of key <paramref name="index"/> of resource type <paramref name="type"/>.</summary>
    public static string Path(int type, int index) => $"/calico/v1/t{type}/host/node-{index / 100:D5}/endpoint/workload-{index % 100:D3}";

    /// <summary>
    /// Key objects for <paramref name="keys"/> keys spread round-robin over <paramref name="types"/> resource types:
    /// key i belongs to type i % types.
    /// </summary>
    public static PathKey[] MakeKeys(int keys, int types = 1)
    {
        var result = new PathKey[keys];
        for (int i = 0; i < keys; i++)
        {
            result[i] = new PathKey(Path(i % types, i / types));
        }

        return result;
    }

    /// <summary>A store holding one pair per key, with a history large enough for <paramref name="historyCapacity"/> events.</summary>
    public static InMemoryBackend FilledStore(PathKey[] keys, int historyCapacity = 1 << 20)
    {
        var store = new InMemoryBackend(new InMemoryBackendOptions
        {
            HistoryCapacity = historyCapacity,
            SyncerOptions = new WatcherSyncerOptions { MinResyncInterval = TimeSpan.Zero },
        });
        for (int i = 0; i < keys.Length; i++)
        {
            store.ApplyAsync(new KVPair(keys[i], Value(i))).GetAwaiter().GetResult();
        }

        return store;
    }

    /// <summary>A plain dictionary store holding one pair per key.</summary>
    public static PlainStore FilledPlainStore(PathKey[] keys)
    {
        var store = new PlainStore();
        for (int i = 0; i < keys.Length; i++)
        {
            store.Apply(new KVPair(keys[i], Value(i)));
        }

        return store;
    }

    /// <summary>
    /// Updates <paramref name="count"/> keys of <paramref name="store"/> with <c>ApplyAsync</c>, one after the other
    /// from <paramref name="next"/> (round-robin over <paramref name="keys"/>), as one writer would.
    /// </summary>
    public static void Write(InMemoryBackend store, PathKey[] keys, ref int next, int count)
    {
        for (int n = 0; n < count; n++)
        {
            store.ApplyAsync(new KVPair(keys[next], Value(n))).GetAwaiter().GetResult();
            next = next + 1 == keys.Length ? 0 : next + 1;
        }
    }

    /// <summary>
    /// Starts a syncer of one resource type on <paramref name="store"/> with a counting sink, notes it in
    /// <paramref name="started"/> (to be stopped later) and waits until it is in sync; returns the updates delivered.
    /// </summary>
    public static long InitialSync(InMemoryBackend store, List<ISyncer> started)
    {
        var sink = new CountingSink();
        ISyncer syncer = store.CreateSyncer(ResourceTypes(1), sink);
        started.Add(syncer);
        syncer.Start();
        sink.WaitForStatus(SyncStatus.InSync);
        return sink.Updates;
    }

    /// <summary>Stops every syncer in <paramref name="syncers"/> and empties the list.</summary>
    public static void StopAll(List<ISyncer> syncers)
    {
        foreach (ISyncer syncer in syncers)
        {
            syncer.StopAsync().GetAwaiter().GetResult();
        }

        syncers.Clear();
    }

    /// <summary>A value for write number <paramref name="n"/>: a small boxed integer from a fixed set, so values cost no allocation.</summary>
    public static object Value(long n) => BoxedValues[n & (BoxedValues.Length - 1)];

    /// <summary>Resource types for <paramref name="types"/> prefixes.</summary>
    public static ResourceType[] ResourceTypes(int types) =>
        [.. Enumerable.Range(0, types).Select(t => new ResourceType(new PrefixListOptions(Prefix(t))))];

    private static readonly object[] BoxedValues = [.. Enumerable.Range(0, 1024).Select(i => (object)i)];
}
