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
/// <see cref="_seenRevision"/> is the highest numeric datastore revision the client has taken from a relay: the
/// welcome it accepted, and every change applied or queued (deletes included); it only moves back when the client
/// accepts a relay that is behind it after a datastore reset (<see cref="Accepted"/>).
/// Called from one thread at a time (the connection loop, then stop).
/// </summary>
internal sealed class ClientPicture(Func<string, IKey?> parseKey, IValueCodec codec, Action<string, string?> parseFailed)
{
    private readonly Dictionary<string, KnownKey> _known = new(StringComparer.Ordinal);
    private Resync? _resync;
    private long _seenRevision;

    /// <summary>Gets the number of keys the consumer holds.</summary>
    public int Count => _known.Count;

    /// <summary>Gets whether a resync is under way.</summary>
    public bool Resyncing => _resync is not null;

    /// <summary>
    /// Gets the highest numeric datastore revision the client has taken from a relay (0 when none is numeric), deletes
    /// included: a relay whose picture is below it is behind. Counting only the values held is not enough: after the
    /// newest write of a key was its delete, a relay still at an older revision would give the key back.
    /// </summary>
    public long SeenRevision() => _seenRevision;

    /// <summary>The client takes the picture of a relay at <paramref name="revision"/> (after a datastore reset, lower than before).</summary>
    public void Accepted(long revision) => _seenRevision = revision;

    /// <summary>Begins a resync against a relay that will send a snapshot and then its log from the snapshot on.</summary>
    public void BeginResync(long headSequence) =>
        _resync = new Resync(headSequence, _known.Count == 0 ? null : new Dictionary<string, KeyValue>(StringComparer.Ordinal));

    /// <summary>Abandons a resync whose connection ended: the consumer keeps the picture it had.</summary>
    public void AbandonResync() => _resync = null;

    public void ApplySnapshotChunk(ByteString entries, List<Update> updates)
    {
        Resync resync = _resync ?? throw new RelayProtocolException("A snapshot chunk arrived outside a snapshot.");
        if (entries.IsEmpty)
        {
            return;
        }

        foreach (KeyValue item in KeyValueBatch.Parser.ParseFrom(entries).Items)
        {
            if (item.Deleted)
            {
                continue;
            }

            resync.Keys++;
            if (resync.Pending is { } pending)
            {
                pending[item.Key] = item;
            }
            else
            {
                Apply(item, updates);
            }
        }
    }

    public void EndSnapshot(long sequence, SyncStatus status)
    {
        Resync resync = _resync ?? throw new RelayProtocolException("A snapshot ended outside a snapshot.");
        resync.SnapshotDone = true;
        resync.Sequence = sequence;
        resync.Status = status;
    }

    public void ApplyDeltas(Deltas deltas, List<Update> updates)
    {
        foreach (ByteString bytes in deltas.Batches)
        {
            foreach (KeyValue item in KeyValueBatch.Parser.ParseFrom(bytes).Items)
            {
                _seenRevision = Math.Max(_seenRevision, NumericRevision(item.Revision));
                if (_resync?.Pending is { } pending)
                {
                    if (item.Deleted)
                    {
                        pending.Remove(item.Key);
                    }
                    else
                    {
                        pending[item.Key] = item;
                    }
                }
                else if (item.Deleted)
                {
                    if (_known.Remove(item.Key, out KnownKey? known))
                    {
                        updates.Add(new Update(new KVPair(known.Key, null, item.Revision.Length > 0 ? item.Revision : known.Revision), UpdateType.Deleted));
                    }
                }
                else
                {
                    // The feed's syncer reported a change: pass it on, as a direct syncer would, even when the
                    // revision is one the consumer has (after a datastore reset revisions recur with other values).
                    Apply(item, updates, compare: false);
                }
            }
        }

        if (_resync is { } resync)
        {
            resync.Sequence = Math.Max(resync.Sequence, (long)deltas.Sequence);
        }
    }

    public void SetStatus(long sequence, SyncStatus status)
    {
        if (_resync is { } resync)
        {
            resync.Sequence = Math.Max(resync.Sequence, sequence);
            resync.Status = status;
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
            foreach (KeyValue item in pending.Values)
            {
                Apply(item, updates, compare: true);
            }

            var gone = new List<string>();
            foreach ((string key, KnownKey known) in _known)
            {
                if (!pending.ContainsKey(key))
                {
                    gone.Add(key);
                    updates.Add(new Update(new KVPair(known.Key, null, known.Revision), UpdateType.Deleted));
                }
            }

            foreach (string key in gone)
            {
                _known.Remove(key);
            }

            deleted = gone.Count;
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
        _resync = null;
    }

    private void Apply(KeyValue item, List<Update> updates, bool compare = true)
    {
        _seenRevision = Math.Max(_seenRevision, NumericRevision(item.Revision));
        bool held = _known.TryGetValue(item.Key, out KnownKey? known);
        int hash = Hash(item.Value);
        if (held && compare && item.Revision.Length > 0 && item.Revision == known!.Revision && hash == known.ValueHash)
        {
            return;
        }

        IKey? key = held ? known!.Key : parseKey(item.Key);
        if (key is null)
        {
            return;
        }

        object value;
        try
        {
            value = codec.Decode(item.Key, item.Value.Memory);
        }
        catch (ValueParseException ex)
        {
            // Like a direct syncer: the consumer hears of it and goes on with the other keys. It must not keep a value
            // the datastore no longer has, so a key it holds is deleted.
            parseFailed(item.Key, ex.RawValue);
            if (held)
            {
                _known.Remove(item.Key);
                updates.Add(new Update(new KVPair(key, null, item.Revision), UpdateType.Deleted));
            }

            return;
        }

        var kv = new KVPair(key, value, item.Revision.Length > 0 ? item.Revision : null);
        if (held)
        {
            known!.Revision = item.Revision;
            known.ValueHash = hash;
            updates.Add(new Update(kv, UpdateType.Updated));
        }
        else
        {
            _known.Add(item.Key, new KnownKey(key, item.Revision, hash));
            updates.Add(new Update(kv, UpdateType.New));
        }
    }

    private static int Hash(ByteString value)
    {
        var hash = default(HashCode);
        hash.AddBytes(value.Span);
        return hash.ToHashCode();
    }

    private static long NumericRevision(string revision) =>
        long.TryParse(revision, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long value) ? value : 0;

    /// <summary>A key the consumer holds: its parsed key, revision, and a hash of its value's bytes (revisions recur after a datastore reset).</summary>
    private sealed class KnownKey(IKey key, string revision, int valueHash)
    {
        public IKey Key { get; } = key;

        public string Revision { get; set; } = revision;

        public int ValueHash { get; set; } = valueHash;
    }

    /// <summary>One resync: where the connection must reach (the head), where it is, and the relay's picture so far.</summary>
    private sealed class Resync(long headSequence, Dictionary<string, KeyValue>? pending)
    {
        public long HeadSequence { get; } = headSequence;

        /// <summary>Gets the relay's picture as rebuilt so far; null when the consumer is fed directly.</summary>
        public Dictionary<string, KeyValue>? Pending { get; } = pending;

        public bool SnapshotDone { get; set; }

        public long Sequence { get; set; }

        public SyncStatus Status { get; set; } = SyncStatus.ResyncInProgress;

        public int Keys { get; set; }
    }
}
