using System.Runtime.InteropServices;

namespace WatcherSync;

/// <summary>
/// What a watcher cache knows of its resource: keys and revisions only, no values (memory is O(keys)). New or Updated
/// comes from this set, never from the event type; a repeat of the cached revision is swallowed. Every change it makes
/// goes into the cache's <see cref="CacheOutbox"/>.
/// </summary>
/// <remarks>
/// Invariant: every key here was handed out (or is in the outbox) as New or Updated, and not deleted since; an entry's
/// epoch is at most <see cref="Epoch"/>. A key is either indexed (in <c>_entries</c>) or, during and after a list into
/// an empty set, in <c>_unindexed</c>, never both: see there.
/// </remarks>
internal sealed class CacheKeySet(CacheOutbox outbox)
{
    private readonly Dictionary<string, CacheEntry> _entries = new(StringComparer.Ordinal);

    // The keys of a list into an empty set, in the order listed, not yet hashed into _entries: a list is sorted by key
    // (etcd's and the in-memory store's are), so a key greater than the last one is new without a lookup, and the
    // hashing, most of the time to InSync of a large first list, waits until something needs the index
    // (docs/syncer.md, "The first pass over a list").
    // Invariants: while _unindexed is not empty, _entries is empty; its keys are strictly ascending (ordinal), so
    // distinct; _appending is true only from BeginList into an empty set until the first key out of order, the end of
    // the list or anything that needs the index (Index), which moves every entry into _entries.
    private List<CacheEntry> _unindexed = [];
    private bool _appending;

    /// <summary>Gets the number of the current list: entries not seen by it carry an older epoch.</summary>
    public int Epoch { get; private set; }

    public int Count => _entries.Count + _unindexed.Count;

    /// <summary>A list of <paramref name="listed"/> pairs starts: every key must be seen again by it or be deleted at its end.</summary>
    /// <remarks>
    /// The set is sized for the list up front: grown one doubling at a time instead, a first list of a million keys
    /// copies the set some twenty times and leaves as much garbage, most of it large arrays that cost full collections.
    /// Into an empty set, the listed keys are kept in list order instead, as long as they come sorted.
    /// </remarks>
    public void BeginList(int listed)
    {
        Epoch++;
        Index();
        if (_entries.Count == 0)
        {
            _appending = true;
            _unindexed.EnsureCapacity(listed);
        }
        else
        {
            _entries.EnsureCapacity(listed);
        }
    }

    /// <summary>
    /// Applies a pair at <paramref name="revision"/>: New for an unknown key, Updated for a known one whose revision
    /// changed (or any, when <paramref name="revisionsVoid"/>), nothing for a repeat.
    /// </summary>
    public void Upsert(KVPair pair, string? revision, bool revisionsVoid)
    {
        string key = pair.Key.DefaultPath;
        if (_appending && IsAfterLast(key))
        {
            _unindexed.Add(new CacheEntry(pair.Key, revision, Epoch));
            outbox.Add(new Update(ReferenceEquals(pair.Revision, revision) ? pair : pair with { Revision = revision }, UpdateType.New));
            return;
        }

        Index();
        ref CacheEntry entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_entries, key, out bool exists);
        if (exists && !revisionsVoid && string.Equals(entry.Revision, revision, StringComparison.Ordinal))
        {
            entry.Epoch = Epoch;
            return;
        }

        entry = new CacheEntry(pair.Key, revision, Epoch);
        outbox.Add(new Update(ReferenceEquals(pair.Revision, revision) ? pair : pair with { Revision = revision }, exists ? UpdateType.Updated : UpdateType.New));
    }

    /// <summary>Gets whether <see cref="Upsert"/> of <paramref name="key"/> at <paramref name="revision"/> would be swallowed as a repeat.</summary>
    public bool IsRepeat(IKey key, string? revision, bool revisionsVoid)
    {
        if (revisionsVoid || (_appending && IsAfterLast(key.DefaultPath)))
        {
            return false;
        }

        Index();
        return _entries.TryGetValue(key.DefaultPath, out CacheEntry entry) && string.Equals(entry.Revision, revision, StringComparison.Ordinal);
    }

    /// <summary>Deletes a key; a delete of an unknown key is swallowed.</summary>
    public void Delete(IKey key, string? revision)
    {
        if (_appending && IsAfterLast(key.DefaultPath))
        {
            return;
        }

        Index();
        if (_entries.Remove(key.DefaultPath, out CacheEntry entry))
        {
            outbox.Add(new Update(new KVPair(entry.Key, null, revision), UpdateType.Deleted));
        }
    }

    /// <summary>At the end of a list: removes the keys it did not see and returns them, to be deleted at <paramref name="revision"/>.</summary>
    public List<Update> RemoveUnlisted(string revision)
    {
        if (_appending)
        {
            // Every key was listed into an empty set by this list: none is unlisted. The keys stay unindexed until
            // the cache calls Index once the list is handed out, or something needs the index first.
            _appending = false;
            return [];
        }

        Index();
        var gone = new List<Update>();
        foreach (KeyValuePair<string, CacheEntry> pair in _entries)
        {
            if (pair.Value.Epoch != Epoch)
            {
                _entries.Remove(pair.Key);
                gone.Add(new Update(new KVPair(pair.Value.Key, null, revision), UpdateType.Deleted));
            }
        }

        return gone;
    }

    /// <summary>Returns every key still known, as deletions, and forgets them.</summary>
    public List<Update> DrainAsDeletes()
    {
        var deletes = new List<Update>(Count);
        foreach (CacheEntry entry in _unindexed)
        {
            deletes.Add(new Update(new KVPair(entry.Key, null, entry.Revision), UpdateType.Deleted));
        }

        foreach (CacheEntry entry in _entries.Values)
        {
            deletes.Add(new Update(new KVPair(entry.Key, null, entry.Revision), UpdateType.Deleted));
        }

        _entries.Clear();
        _unindexed = [];
        _appending = false;
        return deletes;
    }

    /// <summary>Hashes the keys kept in list order into the index, if any are; a list into an empty set leaves them so until here.</summary>
    public void Index()
    {
        _appending = false;
        if (_unindexed.Count == 0)
        {
            return;
        }

        _entries.EnsureCapacity(_unindexed.Count);
        foreach (CacheEntry entry in _unindexed)
        {
            _entries.Add(entry.Key.DefaultPath, entry);
        }

        _unindexed = [];
    }

    private bool IsAfterLast(string key) =>
        _unindexed.Count == 0 || string.CompareOrdinal(key, _unindexed[^1].Key.DefaultPath) > 0;

    /// <summary>What the cache keeps per key: no value, only what it needs to classify and delete.</summary>
    private record struct CacheEntry(IKey Key, string? Revision, int Epoch);
}
