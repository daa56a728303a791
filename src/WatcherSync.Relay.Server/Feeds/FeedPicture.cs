using WatcherSync.Relay.Protocol;

namespace WatcherSync.Relay.Server;

/// <summary>
/// A feed's current picture: every key present with its encoded message, its prefix bucket and its hash
/// (<see cref="PictureDigest"/>), and per bucket the digest and the number of its keys.
/// <para>
/// State: <see cref="_digests"/>[b] is the sum of the hashes, and <see cref="_counts"/>[b] the number, of the entries
/// of <see cref="_entries"/> in bucket b. Not thread-safe: the feed calls it under its lock.
/// </para>
/// </summary>
internal sealed class FeedPicture(int buckets)
{
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly UInt128[] _digests = new UInt128[buckets];
    private readonly long[] _counts = new long[buckets];

    public int Count => _entries.Count;

    /// <summary>
    /// Applies one change (a deleted message removes the key). Returns true when it shows the datastore was reset: the
    /// key's revision went back, or the same revision now names other bytes. Neither happens to a datastore that was
    /// not reset.
    /// </summary>
    public bool Apply(string key, KeyValue message, int bucket, UInt128 hash)
    {
        bool reset = false;
        if (_entries.Remove(key, out Entry old))
        {
            _digests[bucket] -= old.Hash;
            _counts[bucket]--;
            reset = IsReset(old.Message, message);
        }

        if (!message.Deleted)
        {
            _entries[key] = new Entry(message, bucket, hash);
            _digests[bucket] += hash;
            _counts[bucket]++;
        }

        return reset;
    }

    /// <summary>Gets where the picture stands, at <paramref name="revision"/> with <paramref name="status"/>.</summary>
    public FeedPosition Position(long revision, SyncStatus status) => new(revision, status, [.. _digests], [.. _counts]);

    /// <summary>
    /// Gets the highest numeric revision among the keys present (0 when none is numeric), and fills
    /// <paramref name="perBucket"/> with the same per bucket.
    /// </summary>
    public long MaxRevision(long[] perBucket)
    {
        Array.Clear(perBucket);
        foreach (Entry entry in _entries.Values)
        {
            perBucket[entry.Bucket] = Math.Max(perBucket[entry.Bucket], NumericRevision(entry.Message.Revision));
        }

        return perBucket.Length == 0 ? 0 : perBucket.Max();
    }

    /// <summary>Copies the entries, for a snapshot to encode outside the lock.</summary>
    public Entry[] ToArray() => [.. _entries.Values];

    /// <summary>A revision as a number where it is one (etcd's and the in-memory store's are); 0 otherwise.</summary>
    public static long NumericRevision(string? revision) =>
        long.TryParse(revision, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long value) ? value : 0;

    private static bool IsReset(KeyValue old, KeyValue current)
    {
        if (current.Deleted)
        {
            return false;
        }

        if (old.Revision == current.Revision)
        {
            return old.Revision.Length > 0 && !old.Value.Equals(current.Value);
        }

        long before = NumericRevision(old.Revision);
        long now = NumericRevision(current.Revision);
        return before > 0 && now > 0 && now < before;
    }

    /// <summary>One key of the picture: its encoded message, its bucket, and its hash.</summary>
    public readonly record struct Entry(KeyValue Message, int Bucket, UInt128 Hash);
}
