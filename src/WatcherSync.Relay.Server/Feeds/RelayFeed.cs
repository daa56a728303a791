using Google.Protobuf;
using Microsoft.Extensions.Logging;
using WatcherSync.Relay.Protocol;

namespace WatcherSync.Relay.Server;

/// <summary>
/// One feed: the callbacks of its <see cref="WatcherSyncer"/>. It keeps the current picture (each value encoded once)
/// and a bounded, sequenced log of what happened since, and makes snapshots that are encoded once and shared.
/// The syncer calls it from one thread; clients read it from many, under <see cref="_sync"/>.
/// </summary>
internal sealed class RelayFeed : ISyncerCallbacks, ISyncFailCallbacks, ISyncerParseFailCallbacks, IListedRevisionCallbacks
{
    private const int MinReplayEntries = 1024;

    private readonly Lock _sync = new();
    private readonly Dictionary<string, PictureEntry> _picture = new(StringComparer.Ordinal);
    private readonly string[] _prefixes;
    private readonly IValueCodec _codec;
    private readonly int _maxLogEntries;
    private readonly long _maxLogBytes;
    private readonly int _chunkBytes;
    private readonly int _maxValueBytes;
    private readonly ILogger _logger;
    private readonly RelayServerMetrics _metrics;
    private readonly SnapshotPins _pins;
    private LogEntry[] _ring = new LogEntry[256];
    private int _ringHead;
    private int _ringCount;
    private long _logBytes;
    private long _sequence;
    private SyncStatus _status = SyncStatus.WaitForDatastore;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FeedSnapshot? _snapshot;
    private Task<FeedSnapshot>? _building;
    private bool _closed;
    private bool _announced;
    private int _snapshotsEncoded;
    // The highest datastore revision the feed's picture reflects: of every change applied (deletes included) and of
    // every list (a list at R reflects every write up to R, deletes a fresh list never sees included). Clients refuse
    // a relay whose revision is below what they have seen, so it must not read lower than the picture really is.
    private long _revision;
    private int _refusedValues;
    private WatcherSyncer? _syncer;

    public RelayFeed(RelayFeedOptions options, RelayServerOptions server, ILogger logger, RelayServerMetrics metrics)
    {
        Name = options.Name;
        _prefixes = [.. options.ResourceTypes.Select(t => t.ListInterface.DefaultPathRoot).Distinct(StringComparer.Ordinal)];
        _codec = options.Codec;
        _maxLogEntries = server.MaxLogEntries;
        _maxLogBytes = server.MaxLogBytes;
        _chunkBytes = server.SnapshotChunkBytes;
        _maxValueBytes = server.MaxValueBytes;
        _logger = logger;
        _metrics = metrics;
        _pins = new SnapshotPins(server.MaxSupersededSnapshots);
    }

    public string Name { get; }

    /// <summary>Gets the feed's prefixes; bucket i holds keys under prefix i (longest match), and the last bucket the rest.</summary>
    public IReadOnlyList<string> Prefixes => _prefixes;

    public int BucketCount => _prefixes.Length + 1;

    public SyncStatus Status
    {
        get
        {
            lock (_sync)
            {
                return _status;
            }
        }
    }

    /// <summary>Gets the feed's sequence and the highest datastore revision it had applied by then, read together.</summary>
    public (long Sequence, long Revision) Head
    {
        get
        {
            lock (_sync)
            {
                return (_sequence, _revision);
            }
        }
    }

    public long Sequence
    {
        get
        {
            lock (_sync)
            {
                return _sequence;
            }
        }
    }

    /// <summary>Gets the sequence number of the oldest entry the log still holds (the head plus one when it is empty).</summary>
    public long FirstSequence
    {
        get
        {
            lock (_sync)
            {
                return FirstSequenceLocked();
            }
        }
    }

    public int KeyCount
    {
        get
        {
            lock (_sync)
            {
                return _picture.Count;
            }
        }
    }

    /// <summary>Gets how many snapshots the feed has encoded.</summary>
    public int SnapshotsEncoded
    {
        get
        {
            lock (_sync)
            {
                return _snapshotsEncoded;
            }
        }
    }

    /// <summary>Gets how many values the feed refused: larger than <see cref="RelayServerOptions.MaxValueBytes"/>, or not encodable.</summary>
    public int RefusedValues => Volatile.Read(ref _refusedValues);

    /// <summary>Gets how many distinct snapshots clients are reading now.</summary>
    public int PinnedSnapshots => _pins.Pinned;

    public int LogEntries
    {
        get
        {
            lock (_sync)
            {
                return _ringCount;
            }
        }
    }

    public long LogBytes
    {
        get
        {
            lock (_sync)
            {
                return _logBytes;
            }
        }
    }

    /// <summary>Starts the feed's syncer over <paramref name="backend"/>.</summary>
    public void Start(IBackendClient backend, RelayFeedOptions options)
    {
        WatcherSyncerOptions syncerOptions = options.SyncerOptions ?? new WatcherSyncerOptions { Name = options.Name };
        _syncer = new WatcherSyncer(backend, options.ResourceTypes, this, syncerOptions);
        _syncer.Start();
    }

    /// <summary>
    /// Stops the syncer without passing on what it reports while stopping: a relay that shuts down must not tell its
    /// clients that every key was deleted.
    /// </summary>
    public async Task StopAsync()
    {
        TaskCompletionSource wake;
        lock (_sync)
        {
            _closed = true;
            wake = _changed;
        }

        wake.TrySetResult();
        if (_syncer is not null)
        {
            await _syncer.StopAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Gets whether the feed has stopped.</summary>
    public bool IsClosed
    {
        get
        {
            lock (_sync)
            {
                return _closed;
            }
        }
    }

    /// <summary>A list at <paramref name="revision"/> was delivered: the picture reflects every write up to it.</summary>
    public void OnListed(int resourceIndex, string revision)
    {
        if (long.TryParse(revision, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long listed))
        {
            lock (_sync)
            {
                _revision = Math.Max(_revision, listed);
            }
        }
    }

    public void OnStatusUpdated(SyncStatus status)
    {
        TaskCompletionSource wake;
        lock (_sync)
        {
            if (_closed)
            {
                return;
            }

            _status = status;
            _announced = true;
            Append(new LogEntry(++_sequence, status));
            wake = SwapChanged();
        }

        RelayServerLog.FeedStatus(_logger, Name, status);
        wake.TrySetResult();
    }

    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        var encoder = new ChunkEncoder(BucketCount, _chunkBytes);
        var changes = new List<(string Key, KeyValue Message, int Bucket)>(updates.Count);
        long revision = 0;
        foreach (Update update in updates)
        {
            KVPair kv = update.KVPair;
            string key = kv.Key.DefaultPath;
            int bucket = BucketOf(key);
            KeyValue message = kv.Value is null || update.UpdateType == UpdateType.Deleted
                ? new KeyValue { Key = key, Revision = kv.Revision ?? string.Empty, Deleted = true }
                : EncodeOrRefuse(key, kv);

            // Deletes count towards the feed's revision too: a client that saw a key deleted must refuse a relay that
            // has not, or the key comes back. A relay that lists afresh never sees that delete's revision, but its list's
            // revision is above it (OnListed), so it does not look behind.
            revision = Math.Max(revision, NumericRevision(kv.Revision));
            encoder.Add(bucket, message);
            changes.Add((key, message, bucket));
        }

        if (changes.Count == 0)
        {
            return;
        }

        ByteString[]?[] encoded = encoder.Finish();
        TaskCompletionSource wake;
        lock (_sync)
        {
            if (_closed)
            {
                return;
            }

            foreach ((string key, KeyValue message, int bucket) in changes)
            {
                if (message.Deleted)
                {
                    _picture.Remove(key);
                }
                else
                {
                    _picture[key] = new PictureEntry(message, bucket);
                }
            }

            _revision = Math.Max(_revision, revision);
            Append(new LogEntry(++_sequence, encoded, encoder.Bytes));
            wake = SwapChanged();
        }

        wake.TrySetResult();
    }

    /// <summary>
    /// Encodes a present value. One the codec cannot encode, or larger than MaxValueBytes, is refused here, once, with
    /// an error naming the key: clients hear the key deleted, since they must not keep a value the datastore no
    /// longer has, and no message can grow past the bound.
    /// </summary>
    private KeyValue EncodeOrRefuse(string key, KVPair kv)
    {
        byte[] bytes;
        try
        {
            bytes = _codec.Encode(kv.Value!);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or NotSupportedException or FormatException or System.Text.Json.JsonException)
        {
            RelayServerLog.EncodeFailed(_logger, Name, key, ex);
            Interlocked.Increment(ref _refusedValues);
            return new KeyValue { Key = key, Revision = kv.Revision ?? string.Empty, Deleted = true };
        }

        if (bytes.Length > _maxValueBytes)
        {
            RelayServerLog.ValueTooLarge(_logger, Name, key, bytes.Length, _maxValueBytes);
            Interlocked.Increment(ref _refusedValues);
            return new KeyValue { Key = key, Revision = kv.Revision ?? string.Empty, Deleted = true };
        }

        // The codec's bytes are never mutated after this (values handed out by WatcherSync are immutable), so they are
        // wrapped rather than copied.
        return new KeyValue { Key = key, Revision = kv.Revision ?? string.Empty, Value = UnsafeByteOperations.UnsafeWrap(bytes) };
    }

    /// <summary>A revision as a number where it is one (etcd's and the in-memory store's are); 0 otherwise.</summary>
    private static long NumericRevision(string? revision) =>
        long.TryParse(revision, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long value) ? value : 0;

    public void SyncFailed(Exception error) => RelayServerLog.FeedSyncFailed(_logger, Name, error);

    public void ParseFailed(string rawKey, string? rawValue) => RelayServerLog.FeedParseFailed(_logger, Name, rawKey);

    /// <summary>Returns a task that completes once the log holds an entry after <paramref name="after"/> (or the feed closes).</summary>
    public Task WaitAsync(long after)
    {
        lock (_sync)
        {
            return _sequence > after || _closed ? Task.CompletedTask : _changed.Task;
        }
    }

    /// <summary>
    /// Copies the entries after <paramref name="after"/> into <paramref name="into"/>, at most
    /// <paramref name="maxEntries"/>. Returns false when the log no longer holds the entry right after it.
    /// </summary>
    public bool TryRead(long after, List<LogEntry> into, int maxEntries)
    {
        lock (_sync)
        {
            long first = FirstSequenceLocked();
            if (after + 1 < first)
            {
                return false;
            }

            long next = after + 1;
            while (next <= _sequence && into.Count < maxEntries)
            {
                into.Add(_ring[(_ringHead + (int)(next - first)) % _ring.Length]);
                next++;
            }

            return true;
        }
    }

    /// <summary>
    /// Gets a snapshot from which the log can still take a client forward: the last one made when it still can,
    /// otherwise a new one (made once however many clients ask for it at the same time).
    /// </summary>
    public Task<FeedSnapshot> GetSnapshotAsync()
    {
        PictureEntry[] entries;
        long sequence;
        SyncStatus status;
        lock (_sync)
        {
            if (_snapshot is { } last && last.Sequence + 1 >= FirstSequenceLocked()
                && _sequence - last.Sequence <= Math.Max(MinReplayEntries, _picture.Count / 8))
            {
                return Task.FromResult(last);
            }

            if (_building is not null)
            {
                return _building;
            }

            entries = [.. _picture.Values];
            sequence = _sequence;
            // Before its syncer announces anything the feed is starting its first list: to a client that is a resync.
            status = _announced ? _status : SyncStatus.ResyncInProgress;
            _building = Task.Run(() => Build(entries, sequence, status));
            return _building;
        }
    }

    /// <summary>
    /// Gets a snapshot as <see cref="GetSnapshotAsync"/> does and pins it for one reader, who must
    /// <see cref="Unpin"/> it once it has sent it (or left).
    /// </summary>
    public async Task<FeedSnapshot> PinSnapshotAsync(CancellationToken token)
    {
        while (true)
        {
            FeedSnapshot snapshot = await GetSnapshotAsync().WaitAsync(token).ConfigureAwait(false);
            if (_pins.TryPin(snapshot))
            {
                return snapshot;
            }

            // Superseded and evicted between being handed out and being pinned: the next one is the latest.
        }
    }

    public void Unpin(FeedSnapshot snapshot) => _pins.Unpin(snapshot);

    private FeedSnapshot Build(PictureEntry[] entries, long sequence, SyncStatus status)
    {
        FeedSnapshot snapshot;
        try
        {
            var encoder = new ChunkEncoder(BucketCount, _chunkBytes);
            foreach (PictureEntry entry in entries)
            {
                encoder.Add(entry.Bucket, entry.Message);
            }

            snapshot = new FeedSnapshot(sequence, status, [.. encoder.Finish().Select(c => c ?? [])], entries.Length, encoder.Bytes);
        }
        finally
        {
            lock (_sync)
            {
                // A failed build is not cached: the next client asks for a new one.
                _building = null;
            }
        }

        lock (_sync)
        {
            _snapshot = snapshot;
            _snapshotsEncoded++;
        }

        _pins.Publish(snapshot);

        _metrics.SnapshotEncoded(snapshot.Bytes);
        RelayServerLog.SnapshotEncoded(_logger, Name, sequence, entries.Length, snapshot.Bytes);
        return snapshot;
    }

    /// <summary>The bucket of <paramref name="key"/>: the longest feed prefix it starts with, or the last bucket.</summary>
    public int BucketOf(string key)
    {
        int best = _prefixes.Length;
        int bestLength = -1;
        for (int i = 0; i < _prefixes.Length; i++)
        {
            if (_prefixes[i].Length > bestLength && key.StartsWith(_prefixes[i], StringComparison.Ordinal))
            {
                best = i;
                bestLength = _prefixes[i].Length;
            }
        }

        return best;
    }

    private long FirstSequenceLocked() => _ringCount == 0 ? _sequence + 1 : _ring[_ringHead].Sequence;

    private TaskCompletionSource SwapChanged()
    {
        TaskCompletionSource old = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return old;
    }

    private void Append(LogEntry entry)
    {
        if (_ringCount == _ring.Length)
        {
            if (_ring.Length < _maxLogEntries)
            {
                var bigger = new LogEntry[Math.Min(_ring.Length * 2, _maxLogEntries)];
                for (int i = 0; i < _ringCount; i++)
                {
                    bigger[i] = _ring[(_ringHead + i) % _ring.Length];
                }

                _ring = bigger;
                _ringHead = 0;
            }
            else
            {
                DropOldest();
            }
        }

        _ring[(_ringHead + _ringCount) % _ring.Length] = entry;
        _ringCount++;
        _logBytes += entry.Bytes;
        while (_ringCount > 1 && _logBytes > _maxLogBytes)
        {
            DropOldest();
        }
    }

    private void DropOldest()
    {
        LogEntry oldest = _ring[_ringHead];
        _ring[_ringHead] = null!;
        _ringHead = (_ringHead + 1) % _ring.Length;
        _ringCount--;
        _logBytes -= oldest.Bytes;
    }

    private readonly record struct PictureEntry(KeyValue Message, int Bucket);
}
