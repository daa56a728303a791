using System.Runtime.InteropServices;

namespace WatcherSync;

/// <summary>
/// What a watcher cache knows of its resource: keys and revisions only, no values (memory is O(keys)). New or Updated
/// comes from this set, never from the event type; a repeat of the cached revision is swallowed. Every change it makes
/// goes into the cache's <see cref="CacheOutbox"/>.
/// </summary>
/// <remarks>Invariant: every key here was handed out (or is in the outbox) as New or Updated, and not deleted since; an entry's epoch is at most <see cref="Epoch"/>.</remarks>
internal sealed class CacheKeySet(CacheOutbox outbox)
{
    private readonly Dictionary<string, CacheEntry> _entries = new(StringComparer.Ordinal);

    /// <summary>Gets the number of the current list: entries not seen by it carry an older epoch.</summary>
    public int Epoch { get; private set; }

    public int Count => _entries.Count;

    /// <summary>A list of <paramref name="listed"/> pairs starts: every key must be seen again by it or be deleted at its end.</summary>
    /// <remarks>
    /// The set is sized for the list up front: grown one doubling at a time instead, a first list of a million keys
    /// copies the set some twenty times and leaves as much garbage, most of it large arrays that cost full collections.
    /// </remarks>
    public void BeginList(int listed)
    {
        Epoch++;
        _entries.EnsureCapacity(listed);
    }

    /// <summary>
    /// Applies a pair at <paramref name="revision"/>: New for an unknown key, Updated for a known one whose revision
    /// changed (or any, when <paramref name="revisionsVoid"/>), nothing for a repeat.
    /// </summary>
    public void Upsert(KVPair pair, string? revision, bool revisionsVoid)
    {
        ref CacheEntry entry = ref CollectionsMarshal.GetValueRefOrAddDefault(_entries, pair.Key.DefaultPath, out bool exists);
        if (exists && !revisionsVoid && string.Equals(entry.Revision, revision, StringComparison.Ordinal))
        {
            entry.Epoch = Epoch;
            return;
        }

        entry = new CacheEntry(pair.Key, revision, Epoch);
        outbox.Add(new Update(ReferenceEquals(pair.Revision, revision) ? pair : pair with { Revision = revision }, exists ? UpdateType.Updated : UpdateType.New));
    }

    /// <summary>Gets whether <see cref="Upsert"/> of <paramref name="key"/> at <paramref name="revision"/> would be swallowed as a repeat.</summary>
    public bool IsRepeat(IKey key, string? revision, bool revisionsVoid) =>
        !revisionsVoid && _entries.TryGetValue(key.DefaultPath, out CacheEntry entry) && string.Equals(entry.Revision, revision, StringComparison.Ordinal);

    /// <summary>Deletes a key; a delete of an unknown key is swallowed.</summary>
    public void Delete(IKey key, string? revision)
    {
        if (_entries.Remove(key.DefaultPath, out CacheEntry entry))
        {
            outbox.Add(new Update(new KVPair(entry.Key, null, revision), UpdateType.Deleted));
        }
    }

    /// <summary>At the end of a list: removes the keys it did not see and returns them, to be deleted at <paramref name="revision"/>.</summary>
    public List<Update> RemoveUnlisted(string revision)
    {
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
        var deletes = new List<Update>(_entries.Count);
        foreach (CacheEntry entry in _entries.Values)
        {
            deletes.Add(new Update(new KVPair(entry.Key, null, entry.Revision), UpdateType.Deleted));
        }

        _entries.Clear();
        return deletes;
    }

    /// <summary>What the cache keeps per key: no value, only what it needs to classify and delete.</summary>
    private record struct CacheEntry(IKey Key, string? Revision, int Epoch);
}
