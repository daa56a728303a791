using System.Globalization;

namespace WatcherSync.Benchmarks;

/// <summary>
/// The baseline store: a <see cref="Dictionary{TKey, TValue}"/> behind one lock with a global revision, and nothing
/// else (no history, no watches, no past versions, no ordering). It shows what the in-memory backend's MVCC and watch
/// machinery costs on top of the least a thread-safe store must do.
/// </summary>
internal sealed class PlainStore
{
    private readonly Lock _sync = new();
    private readonly Dictionary<string, KVPair> _pairs = new(StringComparer.Ordinal);
    private long _revision;

    public KVPair Apply(KVPair kv)
    {
        lock (_sync)
        {
            var stored = new KVPair(kv.Key, kv.Value, (++_revision).ToString(CultureInfo.InvariantCulture));
            _pairs[kv.Key.DefaultPath] = stored;
            return stored;
        }
    }

    /// <summary>Every pair, unordered (a snapshot copy under the lock).</summary>
    public List<KVPair> List()
    {
        lock (_sync)
        {
            return [.. _pairs.Values];
        }
    }
}
