using Google.Protobuf;
using Microsoft.Extensions.Logging;
using WatcherSync.Relay.Protocol;

namespace WatcherSync.Relay.Server;

/// <summary>
/// One feed: the callbacks of its <see cref="WatcherSyncer"/>. It keeps the current picture (<see cref="FeedPicture"/>,
/// each value encoded once) and a bounded, sequenced log of what happened since (<see cref="FeedLog"/>), and makes
/// snapshots that are encoded once and shared. Each log entry records where the picture stands after it
/// (<see cref="FeedPosition"/>), so that a client that says where it is can be continued without a snapshot.
/// <para>
/// State, under <see cref="_sync"/>: <see cref="_sequence"/> is the newest entry's, and <see cref="_position"/> its
/// position (the picture now); <see cref="_revision"/> is the highest revision among the values applied, and
/// <see cref="_bucketRevisions"/> per bucket the revision up to which the bucket reflects every change: the highest of
/// its changes, deletes included, and of its lists (both recomputed from the picture once in sync after a reset);
/// <see cref="_resets"/> counts the datastore resets seen, and <see cref="_resetSeen"/>
/// says one was seen since the feed was last in sync.
/// </para>
/// The syncer calls it from one thread; clients read it from many, under <see cref="_sync"/>.
/// </summary>
internal sealed class RelayFeed : ISyncerCallbacks, ISyncFailCallbacks, ISyncerParseFailCallbacks, IListedRevisionCallbacks
{
    private const int MinReplayEntries = 1024;

    private readonly Lock _sync = new();
    private readonly FeedPicture _picture;
    private readonly string[] _prefixes;
    private readonly UpdateEncoder _encoder;
    private readonly int _chunkBytes;
    private readonly ILogger _logger;
    private readonly RelayServerMetrics _metrics;
    private readonly SnapshotPins _pins;
    private readonly FeedLog _log;
    private readonly string _datastoreName;
    private FeedPosition _position;
    private int _resets;
    private bool _resetSeen;
    private long _sequence;
    private SyncStatus _status = SyncStatus.WaitForDatastore;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _firstInSync = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FeedSnapshot? _snapshot;
    private Task<FeedSnapshot>? _building;
    private bool _closed;
    private bool _announced;
    private int _snapshotsEncoded;
    private long _revision;
    private readonly long[] _bucketRevisions;
    private readonly string[] _resourcePrefixes;
    private WatcherSyncer? _syncer;

    public RelayFeed(RelayFeedOptions options, RelayServerOptions server, ILogger logger, RelayServerMetrics metrics)
    {
        Name = options.Name;
        _resourcePrefixes = [.. options.ResourceTypes.Select(t => t.ListInterface.DefaultPathRoot)];
        _prefixes = [.. _resourcePrefixes.Distinct(StringComparer.Ordinal)];
        _log = new FeedLog(server.MaxLogEntries, server.MaxLogBytes, _sync);
        _chunkBytes = server.SnapshotChunkBytes;
        _logger = logger;
        _metrics = metrics;
        _pins = new SnapshotPins(server.MaxSupersededSnapshots);
        _datastoreName = options.DatastoreEpoch;
        _picture = new FeedPicture(BucketCount);
        _bucketRevisions = new long[BucketCount];
        _encoder = new UpdateEncoder(Name, options.Codec, server.MaxValueBytes, BucketCount, _chunkBytes, BucketOf, logger);
        _position = _picture.Position(0, SyncStatus.ResyncInProgress);
    }

    /// <summary>Gets a task that completes when the feed is first in sync (or stops).</summary>
    public Task FirstInSync => _firstInSync.Task;

    /// <summary>Gets the name of this feed's log: sequences mean something only within one (a restarted relay has a new one).</summary>
    public string LogId { get; } = Guid.NewGuid().ToString("N");

    /// <summary>Gets the datastore epoch: the configured datastore name and the number of datastore resets this feed has seen.</summary>
    public string DatastoreEpoch
    {
        get
        {
            lock (_sync)
            {
                return DatastoreEpochLocked();
            }
        }
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

    /// <summary>
    /// Gets the feed's sequence, the highest datastore revision among the values it had applied by then, and the same
    /// per prefix bucket, read together. Per bucket because each resource type is watched on its own: one type's watch
    /// may be behind while another's is ahead, which the highest revision alone hides.
    /// </summary>
    public (long Sequence, long Revision, long[] BucketRevisions) Head
    {
        get
        {
            lock (_sync)
            {
                return (_sequence, _revision, [.. _bucketRevisions]);
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
    public int RefusedValues => _encoder.Refused;

    /// <summary>Gets how many distinct snapshots clients are reading now.</summary>
    public int PinnedSnapshots => _pins.Pinned;

    public int LogEntries
    {
        get
        {
            lock (_sync)
            {
                return _log.Count;
            }
        }
    }

    public long LogBytes
    {
        get
        {
            lock (_sync)
            {
                return _log.Bytes;
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
        _firstInSync.TrySetResult();
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
            if (status == SyncStatus.InSync && _resetSeen)
            {
                // Revisions went back with the reset: the feed's revision is its picture's again.
                _resetSeen = false;
                _revision = _picture.MaxRevision(_bucketRevisions);
                _position = _position.WithRevision(_revision);
            }

            _position = _position.WithStatus(status);
            _log.Append(new LogEntry(++_sequence, status, _position));
            wake = SwapChanged();
        }

        RelayServerLog.FeedStatus(_logger, Name, status);
        wake.TrySetResult();
        if (status == SyncStatus.InSync)
        {
            _firstInSync.TrySetResult();
        }
    }

    /// <summary>
    /// A list of resource type <paramref name="resourceIndex"/> at <paramref name="revision"/> was delivered: its bucket
    /// reflects every change up to that revision, deletes a fresh list never sees included, so a relay that listed
    /// after a delete does not look behind a client that saw it.
    /// </summary>
    public void OnListed(int resourceIndex, string revision)
    {
        long listed = FeedPicture.NumericRevision(revision);
        int bucket = BucketOf(_resourcePrefixes[resourceIndex]);
        lock (_sync)
        {
            if (!_closed && !_resetSeen)
            {
                _bucketRevisions[bucket] = Math.Max(_bucketRevisions[bucket], listed);
            }
        }
    }

    public void OnUpdates(IReadOnlyList<Update> updates)
    {
        // Encoded once, outside the lock: the clients' readers only wait for the picture and the log to change.
        if (_encoder.Encode(updates) is not { } batch)
        {
            return;
        }

        TaskCompletionSource wake;
        string? newEpoch = null;
        lock (_sync)
        {
            if (_closed)
            {
                return;
            }

            bool reset = false;
            foreach ((string key, KeyValue message, int bucket, UInt128 hash) in batch.Changes)
            {
                reset |= _picture.Apply(key, message, bucket, hash);

                // Deletes count: a client that saw a key deleted refuses a relay that has not, or the key comes back.
                _bucketRevisions[bucket] = Math.Max(_bucketRevisions[bucket], FeedPicture.NumericRevision(message.Revision));
            }

            if (reset && !_resetSeen)
            {
                _resetSeen = true;
                _resets++;
                newEpoch = DatastoreEpochLocked();
            }

            _revision = Math.Max(_revision, batch.Revision);
            _position = _picture.Position(_revision, _position.Status);
            _log.Append(new LogEntry(++_sequence, batch.Chunks, batch.Bytes, _position));
            wake = SwapChanged();
        }

        if (newEpoch is not null)
        {
            RelayServerLog.DatastoreReset(_logger, Name, newEpoch);
        }

        wake.TrySetResult();
    }

    /// <summary>
    /// Finds where in its log this feed can continue a client whose picture is at <paramref name="position"/> (narrowed
    /// to the <paramref name="wanted"/> buckets): by sequence when the position is in this log and the log still holds
    /// it, otherwise by revision and digest at the newest in-sync entry whose picture is the client's. Null when the
    /// client must take a snapshot: another datastore epoch, a position the log no longer covers, or no such entry.
    /// </summary>
    public ResumePoint? TryResume(Position position, bool[] wanted)
    {
        lock (_sync)
        {
            if (position.DatastoreEpoch != DatastoreEpochLocked())
            {
                return null;
            }

            long sequence = (long)Math.Min(position.Sequence, long.MaxValue);
            if (position.LogId == LogId && sequence <= _sequence)
            {
                if (sequence == _sequence)
                {
                    return new ResumePoint(sequence, CurrentStatusLocked(), ResumePoint.BySequence);
                }

                if (_log.Find(sequence, _sequence) is { } at)
                {
                    return new ResumePoint(sequence, at.Position.Status, ResumePoint.BySequence);
                }
            }

            if (PictureDigest.FromBytes(position.Digest) is not { } digest)
            {
                return null;
            }

            long keys = (long)Math.Min(position.Keys, long.MaxValue);
            long revision = (long)Math.Min(position.Revision, long.MaxValue);
            LogEntry? match = _log.FindNewest(revision, e => e.Position.Status == SyncStatus.InSync && e.Position.Matches(wanted, digest, keys));
            return match is null ? null : new ResumePoint(match.Sequence, SyncStatus.InSync, ResumePoint.ByRevision);
        }
    }

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
            return _log.TryRead(after, _sequence, into, maxEntries);
        }
    }

    /// <summary>
    /// Gets a snapshot from which the log can still take a client forward: the last one made when it still can,
    /// otherwise a new one (made once however many clients ask for it at the same time).
    /// </summary>
    public Task<FeedSnapshot> GetSnapshotAsync()
    {
        FeedPicture.Entry[] entries;
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

            entries = _picture.ToArray();
            sequence = _sequence;
            status = CurrentStatusLocked();
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

    private FeedSnapshot Build(FeedPicture.Entry[] entries, long sequence, SyncStatus status)
    {
        FeedSnapshot snapshot;
        try
        {
            var encoder = new ChunkEncoder(BucketCount, _chunkBytes);
            foreach (FeedPicture.Entry entry in entries)
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

    private long FirstSequenceLocked() => _log.FirstSequence(_sequence);

    private string DatastoreEpochLocked() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{_datastoreName}#{_resets}");

    // Before its syncer announces anything the feed is starting its first list: to a client that is a resync.
    private SyncStatus CurrentStatusLocked() => _announced ? _status : SyncStatus.ResyncInProgress;

    private TaskCompletionSource SwapChanged()
    {
        TaskCompletionSource old = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return old;
    }
}
