using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;
using WatcherSync.Relay.Protocol;

namespace WatcherSync.Relay;

/// <summary>
/// The keys a relay client's consumer holds, and the resync that brings them to a relay's picture.
/// <para>
/// State: <see cref="_known"/> is exactly what the consumer holds (every key reported New and not yet Deleted).
/// <see cref="_resync"/> is null between resyncs (deltas then apply straight to the consumer), and set from a welcome
/// until the connection holds the feed's current picture and the feed is in sync. While it is set and the consumer
/// held keys when it began, the relay's picture is rebuilt in <see cref="Resync.Pending"/> and the consumer hears
/// nothing: it keeps its picture, as a direct syncer keeps its picture while it cannot reach the datastore. At the end
/// only the difference is reported (keys whose revision and value are unchanged are not reported again; keys the relay
/// does not have are deleted). A consumer that held nothing is fed as the snapshot arrives, as a direct syncer's
/// first list is.
/// </para>
/// <para>
/// <see cref="_digest"/> is the digest of <see cref="_known"/> (<see cref="PictureDigest"/>). <see cref="_position"/>
/// places <see cref="_known"/> in a relay's log (the log, its epoch, the last entry wholly applied, the feed's status
/// there), or is null when it cannot be placed: before a first complete snapshot, and while a snapshot is fed straight
/// to the consumer. <see cref="_midEntry"/> is set while the consumer holds part of a log entry (after a partial
/// Deltas); then there is no position to send either. A resync that rebuilds the relay's picture aside leaves the
/// position as it was until it ends, since the consumer's picture does not change until then.
/// <see cref="_seenRevision"/> is the highest revision the relay has sent since the consumer's last snapshot base,
/// kept or not (deletes, values the codec refused); the position's revision is never below it.
/// </para>
/// Called from one thread at a time (the connection loop, then stop).
/// </summary>
internal sealed class ClientPicture(Func<string, IKey?> parseKey, IValueCodec codec, Action<string, string?> parseFailed)
{
    private readonly Dictionary<string, KnownKey> _known = new(StringComparer.Ordinal);
    private Resync? _resync;
    private UInt128 _digest;
    private LogPlace? _position;
    private bool _midEntry;
    private long _seenRevision;

    // Per prefix of the relay followed (Unprefixed for the keys under none), the revision of the newest delete the
    // client took there: a relay below it is behind even when every value the client holds is older than the relay's
    // (after the newest change under a prefix was a delete), or the deleted key would come back.
    private readonly Dictionary<string, long> _deleteFloors = new(StringComparer.Ordinal);
    private IReadOnlyList<string> _prefixes = [];
    private const string Unprefixed = "\0";

    /// <summary>Gets the number of keys the consumer holds.</summary>
    public int Count => _known.Count;

    /// <summary>Gets whether a resync is under way.</summary>
    public bool Resyncing => _resync is not null;

    /// <summary>
    /// Gets the highest numeric datastore revision among the values the consumer holds (0 when none is numeric). A
    /// relay whose picture is below it is behind; deleted keys do not count, as a relay that lists afresh never sees them.
    /// </summary>
    public long HeldRevision()
    {
        long max = 0;
        foreach (KnownKey known in _known.Values)
        {
            max = Math.Max(max, NumericRevision(known.Revision));
        }

        return max;
    }

    /// <summary>
    /// Gets, per prefix bucket as a relay counts them (one per prefix, in order, then one for the keys under none of
    /// them; a key counts under the longest prefix it starts with), the highest revision the client took there: of the
    /// values it holds and of the deletes it was told (a relay counts both, and its lists).
    /// </summary>
    public long[] HeldRevisions(IReadOnlyList<string> prefixes)
    {
        long[] max = new long[prefixes.Count + 1];
        foreach ((string path, KnownKey known) in _known)
        {
            int bucket = prefixes.Count;
            int longest = -1;
            for (int i = 0; i < prefixes.Count; i++)
            {
                if (prefixes[i].Length > longest && path.StartsWith(prefixes[i], StringComparison.Ordinal))
                {
                    bucket = i;
                    longest = prefixes[i].Length;
                }
            }

            max[bucket] = Math.Max(max[bucket], NumericRevision(known.Revision));
        }

        for (int bucket = 0; bucket < max.Length; bucket++)
        {
            if (_deleteFloors.TryGetValue(bucket < prefixes.Count ? prefixes[bucket] : Unprefixed, out long deleted))
            {
                max[bucket] = Math.Max(max[bucket], deleted);
            }
        }

        return max;
    }

    /// <summary>Forgets the deletes' revisions (the client takes a relay behind it: after a datastore reset revisions start again).</summary>
    public void ForgetDeleteRevisions() => _deleteFloors.Clear();

    /// <summary>Notes that a delete at <paramref name="revision"/> was taken for <paramref name="key"/>.</summary>
    private void TookDelete(string key, long revision)
    {
        IReadOnlyList<string> prefixes = _resync?.Welcome.Prefixes ?? _prefixes;
        string prefix = Unprefixed;
        foreach (string candidate in prefixes)
        {
            if ((prefix == Unprefixed || candidate.Length > prefix.Length) && key.StartsWith(candidate, StringComparison.Ordinal))
            {
                prefix = candidate;
            }
        }

        _deleteFloors[prefix] = Math.Max(_deleteFloors.GetValueOrDefault(prefix), revision);
    }

    /// <summary>
    /// Gets where the consumer's picture is, for the hello: a relay that can place it continues from there without a
    /// snapshot. Null when it cannot be placed.
    /// </summary>
    public Position? Position() => _position is not { } place || _midEntry || place.LogId.Length == 0
        ? null
        : new Position
        {
            LogId = place.LogId,
            Sequence = (ulong)place.Sequence,
            DatastoreEpoch = place.Epoch,
            Revision = (ulong)Math.Max(HeldRevision(), _seenRevision),
            Digest = PictureDigest.ToBytes(_digest),
            Keys = (ulong)_known.Count,
        };

    /// <summary>Begins a resync against a relay that will send a snapshot and then its log from the snapshot on.</summary>
    public void BeginResync(Welcome welcome)
    {
        _prefixes = welcome.Prefixes;
        _resync = new Resync((long)welcome.HeadSequence, _known.Count == 0 ? null : new Dictionary<string, PendingValue>(StringComparer.Ordinal), welcome);
        if (_resync.Pending is null)
        {
            // Fed straight from the snapshot: until it ends, the consumer holds part of one.
            _position = null;
        }
    }

    /// <summary>
    /// Begins the replay of a relay that continues the consumer's picture from the welcome's sequence (no snapshot):
    /// the log follows from there, and the resync ends once it reaches the head with the feed in sync.
    /// </summary>
    public void BeginResume(Welcome welcome, SyncStatus status)
    {
        _prefixes = welcome.Prefixes;
        _resync = new Resync((long)welcome.HeadSequence, null, welcome)
        {
            SnapshotDone = true,
            Sequence = (long)welcome.SnapshotSequence,
            Status = status,
            Keys = _known.Count,
        };
        _position = new LogPlace(welcome.LogId, welcome.DatastoreEpoch, (long)welcome.SnapshotSequence);
        _midEntry = false;
    }

    /// <summary>Gets whether the resync under way continues the consumer's picture rather than taking a snapshot.</summary>
    public bool Resuming => _resync?.Welcome.Resumed == true;

    /// <summary>Abandons a resync whose connection ended: the consumer keeps the picture it had.</summary>
    public void AbandonResync() => _resync = null;

    public void ApplySnapshotChunk(ByteString entries, List<Update> updates)
    {
        Resync resync = _resync ?? throw new RelayProtocolException("A snapshot chunk arrived outside a snapshot.");
        if (entries.IsEmpty)
        {
            return;
        }

        // The whole chunk is checked before any of it is applied: a chunk refused halfway must leave the picture as
        // the consumer was told it.
        ReadOnlyMemory<byte> batch = entries.Memory;
        updates.EnsureCapacity(updates.Count + KeyValueBatchReader.Validate(batch));
        var reader = new KeyValueBatchReader(batch);
        while (reader.TryRead(out KeyValueView item))
        {
            Saw(item.NumericRevision);
            if (item.Deleted)
            {
                continue;
            }

            resync.Keys++;
            if (resync.Pending is { } pending)
            {
                pending[KeyOf(item)] = new PendingValue(RevisionOf(item), item.Value, HashOf(item));
            }
            else
            {
                Apply(KeyOf(item), RevisionOf(item), item.Value, HashOf(item), updates);
            }
        }
    }

    public void EndSnapshot(long sequence, SyncStatus status)
    {
        Resync resync = _resync ?? throw new RelayProtocolException("A snapshot ended outside a snapshot.");
        resync.SnapshotDone = true;
        resync.Sequence = sequence;
        resync.Status = status;
        if (resync.Pending is null)
        {
            _position = new LogPlace(resync.Welcome.LogId, resync.Welcome.DatastoreEpoch, sequence);
            _midEntry = false;
        }
    }

    public void ApplyDeltas(Deltas deltas, List<Update> updates)
    {
        // Every batch is decoded before any is applied: a message refused at its third batch (corrupt, a bomb, an
        // unknown encoding) must leave the picture as it was, since the updates of the first two would never be
        // delivered and a resync compares against the picture.
        var batches = new ReadOnlyMemory<byte>[deltas.Batches.Count];
        int items = 0;
        for (int batch = 0; batch < batches.Length; batch++)
        {
            batches[batch] = BatchDecoder.Batch(deltas, batch, RelayChannels.MaxMessageBytes).Memory;
            items += KeyValueBatchReader.Validate(batches[batch]);
        }

        updates.EnsureCapacity(updates.Count + items);
        foreach (ReadOnlyMemory<byte> decoded in batches)
        {
            var reader = new KeyValueBatchReader(decoded);
            while (reader.TryRead(out KeyValueView item))
            {
                long revision = item.NumericRevision;
                Saw(revision);
                string key = KeyOf(item);
                if (item.Deleted)
                {
                    TookDelete(key, revision);
                }

                if (_resync?.Pending is { } pending)
                {
                    if (item.Deleted)
                    {
                        pending.Remove(key);
                    }
                    else
                    {
                        pending[key] = new PendingValue(RevisionOf(item), item.Value, HashOf(item));
                    }
                }
                else if (item.Deleted)
                {
                    if (Forget(key, out KnownKey known))
                    {
                        updates.Add(new Update(new KVPair(known.Key, null, item.Revision.IsEmpty ? known.Revision : RevisionOf(item)), UpdateType.Deleted));
                    }
                }
                else
                {
                    // The feed's syncer reported a change: pass it on, as a direct syncer would, even when the
                    // revision is one the consumer has (after a datastore reset revisions recur with other values).
                    Apply(key, RevisionOf(item), item.Value, HashOf(item), updates, compare: false);
                }
            }
        }

        if (_resync is { } resync)
        {
            resync.Sequence = Math.Max(resync.Sequence, (long)deltas.Sequence);
        }

        // The consumer's picture moves with the relay's unless a resync rebuilds it aside.
        if (_resync is { Pending: not null } aside)
        {
            aside.MidEntry = deltas.Partial;
        }
        else
        {
            _midEntry = deltas.Partial;
            if (_position is not null)
            {
                _position = _position with { Sequence = (long)deltas.Sequence };
            }
        }
    }

    public void SetStatus(long sequence, SyncStatus status)
    {
        if (_resync is { } resync)
        {
            resync.Sequence = Math.Max(resync.Sequence, sequence);
            resync.Status = status;
        }

        if (_resync?.Pending is null && _position is not null)
        {
            // A status is never inside an entry.
            _midEntry = false;
            _position = _position with { Sequence = sequence };
        }
    }

    /// <summary>
    /// Ends the resync when the connection holds the feed's current picture (the snapshot and the log up to the
    /// welcome's head) and the feed is in sync: reports the difference with what the consumer held.
    /// </summary>
    /// <returns>True when the resync ended (the caller announces InSync).</returns>
    public bool TryFinishResync(List<Update> updates, out int keys, out int deleted)
    {
        keys = 0;
        deleted = 0;
        if (_resync is not { SnapshotDone: true, Status: SyncStatus.InSync } resync || resync.Sequence < resync.HeadSequence)
        {
            return false;
        }

        keys = resync.Keys;
        if (resync.Pending is { } pending)
        {
            foreach ((string key, PendingValue item) in pending)
            {
                Apply(key, item.Revision, item.Value, item.Hash, updates, compare: true);
            }

            var gone = new List<string>();
            foreach ((string key, KnownKey known) in _known)
            {
                if (!pending.ContainsKey(key))
                {
                    // Deleted at some revision the snapshot does not say, at most the relay's for that prefix.
                    TookDelete(key, SnapshotRevision(resync.Welcome, key));
                    gone.Add(key);
                    updates.Add(new Update(new KVPair(known.Key, null, known.Revision), UpdateType.Deleted));
                }
            }

            foreach (string key in gone)
            {
                Forget(key);
            }

            deleted = gone.Count;

            // The consumer now holds the relay's picture at the resync's sequence (and part of the next entry, when the
            // last message was partial).
            _position = new LogPlace(resync.Welcome.LogId, resync.Welcome.DatastoreEpoch, resync.Sequence);
            _midEntry = resync.MidEntry;
        }

        if (!resync.Welcome.Resumed)
        {
            // A snapshot is a new base: what was seen before it (another epoch's revisions, say) no longer counts.
            _seenRevision = resync.SeenRevision;
        }

        _resync = null;
        return true;
    }

    /// <summary>Reports every key held as deleted and forgets them (the syncer is stopping).</summary>
    public void Clear(List<Update> updates)
    {
        foreach (KnownKey known in _known.Values)
        {
            updates.Add(new Update(new KVPair(known.Key, null, known.Revision), UpdateType.Deleted));
        }

        _known.Clear();
        _deleteFloors.Clear();
        _resync = null;
        _digest = UInt128.Zero;
        _position = null;
    }

    private void Apply(string path, string revision, ReadOnlyMemory<byte> bytes, UInt128 hash, List<Update> updates, bool compare = true)
    {
        // One lookup per key: a key seen for the first time gets its entry here, and loses it again when it cannot be
        // parsed or decoded. Nothing else touches the dictionary until the entry is written (the parser and the codec
        // cannot reach it), so the reference stays good across their calls.
        ref KnownKey known = ref CollectionsMarshal.GetValueRefOrAddDefault(_known, path, out bool held);
        if (held && compare && revision.Length > 0 && revision == known.Revision && hash == known.Hash)
        {
            return;
        }

        IKey? key = held ? known.Key : parseKey(path);
        if (key is null)
        {
            _known.Remove(path);
            return;
        }

        object value;
        try
        {
            value = codec.Decode(path, bytes);
        }
#pragma warning disable CA1031 // The codec is the consumer's code: whatever it throws is a value it cannot parse, as for a direct syncer.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // Like a direct syncer: the consumer hears of it and goes on with the other keys. It must not keep a value
            // the datastore no longer has, so a key it holds is deleted.
            parseFailed(path, ex is ValueParseException parse ? parse.RawValue : Preview(bytes.Span));
            if (held)
            {
                Forget(path);
                updates.Add(new Update(new KVPair(key, null, revision), UpdateType.Deleted));
            }
            else
            {
                _known.Remove(path);
            }

            return;
        }

        var kv = new KVPair(key, value, revision.Length > 0 ? revision : null);
        _digest = held ? _digest - known.Hash + hash : _digest + hash;
        known = new KnownKey(key, revision, hash);
        updates.Add(new Update(kv, held ? UpdateType.Updated : UpdateType.New));
    }

    /// <summary>
    /// Records a revision the relay sent, whether the consumer kept the value or not (a delete, a value the codec
    /// refused): a relay may continue the client only from an entry at or after it, or a key the client heard deleted
    /// or dropped could be told again from an older entry whose picture happens to equal the client's.
    /// </summary>
    private void Saw(long numeric)
    {
        if (_resync is { } resync && !resync.Welcome.Resumed)
        {
            resync.SeenRevision = Math.Max(resync.SeenRevision, numeric);
        }
        else
        {
            _seenRevision = Math.Max(_seenRevision, numeric);
        }
    }

    /// <summary>The start of a value that could not be decoded, as text, for the parse failure (as a direct syncer reports it).</summary>
    private static string Preview(ReadOnlySpan<byte> value) => Encoding.UTF8.GetString(value[..Math.Min(value.Length, 1024)]);

    /// <summary>The key of an item read off the wire, as the string the picture keys by.</summary>
    private static string KeyOf(in KeyValueView item) => Encoding.UTF8.GetString(item.Key.Span);

    /// <summary>The picture's hash of an item read off the wire, from its bytes as they came.</summary>
    private static UInt128 HashOf(in KeyValueView item) => PictureDigest.Of(item.Key.Span, item.Revision.Span, item.Value.Span);

    /// <summary>The revision of an item read off the wire, as the opaque text the consumer is given.</summary>
    private static string RevisionOf(in KeyValueView item) => item.Revision.IsEmpty ? string.Empty : Encoding.UTF8.GetString(item.Revision.Span);

    /// <summary>Removes a held key, and its hash from the digest.</summary>
    private bool Forget(string key, out KnownKey known)
    {
        if (!_known.Remove(key, out known))
        {
            return false;
        }

        _digest -= known.Hash;
        return true;
    }

    private void Forget(string key) => Forget(key, out _);

    /// <summary>The revision a welcome gives for the prefix bucket of <paramref name="key"/> (its overall one without buckets).</summary>
    private static long SnapshotRevision(Welcome welcome, string key)
    {
        if (welcome.BucketRevisions.Count != welcome.Prefixes.Count + 1)
        {
            return (long)welcome.Revision;
        }

        int bucket = welcome.Prefixes.Count;
        int longest = -1;
        for (int i = 0; i < welcome.Prefixes.Count; i++)
        {
            if (welcome.Prefixes[i].Length > longest && key.StartsWith(welcome.Prefixes[i], StringComparison.Ordinal))
            {
                bucket = i;
                longest = welcome.Prefixes[i].Length;
            }
        }

        return (long)welcome.BucketRevisions[bucket];
    }

    private static long NumericRevision(string revision) =>
        long.TryParse(revision, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long value) ? value : 0;

    /// <summary>
    /// A key the consumer holds: its parsed key, revision, and the hash of its key, revision and value bytes (for the
    /// digest, and because revisions recur after a datastore reset). A value in the dictionary, not an object per key.
    /// </summary>
    private readonly record struct KnownKey(IKey Key, string Revision, UInt128 Hash);

    /// <summary>
    /// A key of the relay's picture rebuilt aside during a resync: its revision, hash and value bytes (a slice of the message
    /// that carried it, which is the client's own: nothing else writes to it).
    /// </summary>
    private readonly record struct PendingValue(string Revision, ReadOnlyMemory<byte> Value, UInt128 Hash);

    /// <summary>A place in a relay's log: the log, its datastore epoch, and a sequence in it.</summary>
    private sealed record LogPlace(string LogId, string Epoch, long Sequence);

    /// <summary>One resync: where the connection must reach (the head), where it is, and the relay's picture so far.</summary>
    private sealed class Resync(long headSequence, Dictionary<string, PendingValue>? pending, Welcome welcome)
    {
        public long HeadSequence { get; } = headSequence;

        /// <summary>Gets the welcome that began it (the relay's log and epoch; whether it resumes).</summary>
        public Welcome Welcome { get; } = welcome;

        /// <summary>Gets the relay's picture as rebuilt so far; null when the consumer is fed directly.</summary>
        public Dictionary<string, PendingValue>? Pending { get; } = pending;

        public bool SnapshotDone { get; set; }

        /// <summary>Gets or sets the highest revision the relay sent during this snapshot resync (the new base).</summary>
        public long SeenRevision { get; set; }

        public long Sequence { get; set; }

        public SyncStatus Status { get; set; } = SyncStatus.ResyncInProgress;

        public int Keys { get; set; }

        /// <summary>Gets or sets whether the relay's picture rebuilt aside holds part of a log entry (the last Deltas was partial).</summary>
        public bool MidEntry { get; set; }
    }
}
