namespace WatcherSync.InMemory;

/// <summary>
/// The embedded datastore: an MVCC-lite key-value store with one global revision, per-key create and modify
/// revisions, compare-and-swap, time-to-live, prefix deletes, and watches served from a bounded event history.
/// After <see cref="Compact(long)"/>, reads and watches at older revisions fail with
/// <see cref="RevisionExpiredException"/>, as they do on etcd. Thread-safe; writers never wait for watchers.
/// </summary>
public sealed class InMemoryBackend : IBackendClient, IPrefixDeleter
{
    private readonly Lock _sync = new();
    private readonly InMemoryBackendOptions _options;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, KeyRecord> _records = new(StringComparer.Ordinal);
    private readonly SortedSet<KeyRecord> _sorted = new(KeyRecordComparer.Instance);
    private readonly EventHistory _history;
    private readonly WaiterList _waiters = new();
    private readonly HashSet<InMemoryWatch> _watches = [];
    private readonly ExpiryQueue _expiries = new();
    private readonly ITimer _expiryTimer;
    private long _revision = 1;
    private long _compactRevision;
    private long _nextExpiryTicks = long.MaxValue;
    private int _liveCount;
    private bool _disposed;

    /// <summary>Creates an empty store at revision 1.</summary>
    public InMemoryBackend(InMemoryBackendOptions? options = null)
    {
        _options = options ?? new InMemoryBackendOptions();
        _options.Validate();
        _time = _options.TimeProvider;
        _history = new EventHistory(_options.HistoryCapacity);
        _expiryTimer = _time.CreateTimer(static s => ((InMemoryBackend)s!).ExpireDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Gets the current revision.</summary>
    public long Revision
    {
        get
        {
            lock (_sync)
            {
                return _revision;
            }
        }
    }

    /// <summary>Gets the revision the store was last compacted at (0 when never).</summary>
    public long CompactRevision
    {
        get
        {
            lock (_sync)
            {
                return _compactRevision;
            }
        }
    }

    /// <summary>Gets the number of live keys.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _liveCount;
            }
        }
    }

    internal Lock Sync => _sync;

    internal EventHistory History => _history;

    internal TimeProvider TimeProvider => _time;

    internal TimeSpan BookmarkInterval => _options.BookmarkInterval;

    internal WaiterList Waiters => _waiters;

    internal long CurrentRevisionLocked => _revision;

    internal long CompactRevisionLocked => _compactRevision;

    /// <summary>Gets how many watches are registered to be woken by the next change (for tests).</summary>
    internal int WaiterCount
    {
        get
        {
            lock (_sync)
            {
                return _waiters.Count;
            }
        }
    }

    /// <summary>Gets how many deadlines the time-to-live queue holds (for tests).</summary>
    internal int PendingExpiryCount
    {
        get
        {
            lock (_sync)
            {
                return _expiries.Count;
            }
        }
    }

    /// <inheritdoc />
    public Task<KVPair> CreateAsync(KVPair kv, CancellationToken cancellationToken = default) => Write(kv, WriteMode.Create, cancellationToken);

    /// <inheritdoc />
    public Task<KVPair> UpdateAsync(KVPair kv, CancellationToken cancellationToken = default) => Write(kv, WriteMode.Update, cancellationToken);

    /// <inheritdoc />
    public Task<KVPair> ApplyAsync(KVPair kv, CancellationToken cancellationToken = default) => Write(kv, WriteMode.Apply, cancellationToken);

    /// <inheritdoc />
    public Task<KVPair> DeleteAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default)
    {
        string path = ValidateKey(key);
        long expected = Revisions.ParseOptional(revision, nameof(revision));
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<KVPair>(cancellationToken);
        }

        lock (_sync)
        {
            ThrowIfDisposed();
            if (!_records.TryGetValue(path, out KeyRecord? record) || record.Current is not { } old)
            {
                return Task.FromException<KVPair>(new ResourceNotFoundException($"Key '{path}' does not exist."));
            }

            if (expected != 0 && record.ModRevision != expected)
            {
                return Task.FromException<KVPair>(Conflict(path, expected, record.ModRevision));
            }

            long rev = ++_revision;
            DeleteLocked(record, key, rev);
            return Task.FromResult(old);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<KVPair>> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        KeyText.ThrowIfNotValidUtf16(prefix, nameof(prefix));
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<IReadOnlyList<KVPair>>(cancellationToken);
        }

        lock (_sync)
        {
            ThrowIfDisposed();
            var doomed = new List<KeyRecord>();
            foreach (KeyRecord record in Range(prefix))
            {
                if (record.IsLive)
                {
                    doomed.Add(record);
                }
            }

            var deleted = new List<KVPair>(doomed.Count);
            if (doomed.Count > 0)
            {
                long rev = ++_revision;
                foreach (KeyRecord record in doomed)
                {
                    KVPair old = record.Current!;
                    deleted.Add(old);
                    DeleteLocked(record, old.Key, rev);
                }
            }

            return Task.FromResult<IReadOnlyList<KVPair>>(deleted);
        }
    }

    /// <inheritdoc />
    public Task<KVPair> GetAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default)
    {
        string path = ValidateKey(key);
        long at = Revisions.ParseOptional(revision, nameof(revision));
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<KVPair>(cancellationToken);
        }

        lock (_sync)
        {
            ThrowIfDisposed();
            if (CheckReadRevisionLocked(at, out long readAt) is { } error)
            {
                return Task.FromException<KVPair>(error);
            }

            KVPair? pair = _records.TryGetValue(path, out KeyRecord? record) ? record.At(readAt, _history) : null;
            if (pair is null)
            {
                return Task.FromException<KVPair>(new ResourceNotFoundException($"Key '{path}' does not exist."));
            }

            return Task.FromResult(ReferenceEquals(pair.Key, key) ? pair : pair with { Key = key });
        }
    }

    /// <inheritdoc />
    public Task<KVPairList> ListAsync(IListOptions list, string? revision = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(list);
        string prefix = ListRoot(list);
        long at = Revisions.ParseOptional(revision, nameof(revision));
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<KVPairList>(cancellationToken);
        }

        List<KVPair> pairs;
        long readAt;
        lock (_sync)
        {
            ThrowIfDisposed();
            if (CheckReadRevisionLocked(at, out readAt) is { } error)
            {
                return Task.FromException<KVPairList>(error);
            }

            pairs = new List<KVPair>(Math.Min(_liveCount, 1024));
            foreach (KeyRecord record in Range(prefix))
            {
                if (record.At(readAt, _history) is { } pair)
                {
                    pairs.Add(pair);
                }
            }
        }

        // Keys are parsed outside the lock: list options are user code.
        if (list is not PrefixListOptions)
        {
            int kept = 0;
            for (int i = 0; i < pairs.Count; i++)
            {
                if (KeyFor(list, pairs[i].Key.DefaultPath) is { } key)
                {
                    pairs[kept++] = pairs[i] with { Key = key };
                }
            }

            pairs.RemoveRange(kept, pairs.Count - kept);
        }

        return Task.FromResult(new KVPairList(pairs, Revisions.Format(readAt)));
    }

    /// <inheritdoc />
    public Task<IWatch> WatchAsync(IListOptions list, WatchOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(list);
        ArgumentNullException.ThrowIfNull(options);
        string prefix = ListRoot(list);
        long after = Revisions.ParseOptional(options.Revision, nameof(options));
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<IWatch>(cancellationToken);
        }

        lock (_sync)
        {
            ThrowIfDisposed();
            if (after == 0)
            {
                after = _revision;
            }
            else if (after < _compactRevision)
            {
                return Task.FromException<IWatch>(Compacted(after));
            }

            // A revision the store has not reached yet is accepted, as etcd accepts it: the watch stays silent until
            // the store passes it.
            var watch = new InMemoryWatch(this, list, prefix, _history.FirstAfter(after), options.AllowWatchBookmarks, after);
            _watches.Add(watch);
            return Task.FromResult<IWatch>(watch);
        }
    }

    /// <summary>
    /// Compacts the store at <paramref name="revision"/>: reads at older revisions and watches from older revisions
    /// fail with <see cref="RevisionExpiredException"/> from now on, and watches that still had older events to
    /// deliver receive that error.
    /// </summary>
    /// <exception cref="RevisionExpiredException">The store is already compacted at or past that revision.</exception>
    /// <exception cref="RevisionTooLargeException">The revision is in the future.</exception>
    public void Compact(long revision)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(revision);
        lock (_sync)
        {
            ThrowIfDisposed();
            if (revision > _revision)
            {
                throw new RevisionTooLargeException($"Cannot compact at revision {revision}: the current revision is {_revision}.");
            }

            if (revision <= _compactRevision)
            {
                throw Compacted(revision);
            }

            CompactLocked(revision);
            _waiters.WakeAll();
        }
    }

    /// <summary>Compacts the store at <paramref name="revision"/> (an opaque revision string from this store).</summary>
    /// <inheritdoc cref="Compact(long)" />
    public void Compact(string revision)
    {
        long value = Revisions.ParseOptional(revision, nameof(revision));
        Compact(value == 0 ? Revision : value);
    }

    /// <inheritdoc />
    public ISyncer CreateSyncer(IEnumerable<ResourceType> resourceTypes, ISyncerCallbacks callbacks) =>
        new WatcherSyncer(this, resourceTypes, callbacks, _options.SyncerOptions);

    /// <inheritdoc />
    public Task EnsureInitializedAsync(CancellationToken cancellationToken = default)
    {
        lock (_sync)
        {
            ThrowIfDisposed();
        }

        return cancellationToken.IsCancellationRequested ? Task.FromCanceled(cancellationToken) : Task.CompletedTask;
    }

    /// <summary>Closes every watch and stops expiring keys. Further calls fail with <see cref="ObjectDisposedException"/>.</summary>
    public ValueTask DisposeAsync()
    {
        InMemoryWatch[] watches;
        lock (_sync)
        {
            if (_disposed)
            {
                return ValueTask.CompletedTask;
            }

            _disposed = true;
            watches = [.. _watches];
        }

        _expiryTimer.Dispose();
        foreach (InMemoryWatch watch in watches)
        {
            watch.Close();
        }

        return ValueTask.CompletedTask;
    }

    internal void RemoveWatch(InMemoryWatch watch)
    {
        lock (_sync)
        {
            _watches.Remove(watch);
        }
    }

    internal static IKey? KeyFor(IListOptions list, string path)
    {
        try
        {
            return list.KeyFromDefaultPath(path);
        }
#pragma warning disable CA1031 // List options are user code: a path they cannot parse is a path they do not cover.
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }

    private Task<KVPair> Write(KVPair kv, WriteMode mode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(kv);
        string path = ValidateKey(kv.Key);
        if (kv.Value is null)
        {
            throw new ArgumentException($"The value of '{path}' is null: use DeleteAsync to delete a key.", nameof(kv));
        }

        long expected = Revisions.ParseOptional(kv.Revision, nameof(kv));
        if (kv.Ttl is { } ttl)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero, "kv.Ttl");
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<KVPair>(cancellationToken);
        }

        lock (_sync)
        {
            ThrowIfDisposed();
            _records.TryGetValue(path, out KeyRecord? record);
            KVPair? old = record?.Current;
            switch (mode)
            {
                case WriteMode.Create when old is not null:
                    return Task.FromException<KVPair>(new ResourceAlreadyExistsException($"Key '{path}' already exists."));
                case WriteMode.Update when old is null:
                    return Task.FromException<KVPair>(new ResourceNotFoundException($"Key '{path}' does not exist."));
                case WriteMode.Update or WriteMode.Apply when expected != 0 && (old is null || record!.ModRevision != expected):
                    return Task.FromException<KVPair>(Conflict(path, expected, old is null ? 0 : record!.ModRevision));
            }

            long rev = ++_revision;
            // Reads and watches do not report a lifetime (neither does etcd): only the write's own result says the TTL asked.
            var stored = new KVPair(kv.Key, kv.Value, Revisions.Format(rev)) { Uid = kv.Uid };
            if (record is null)
            {
                record = new KeyRecord(path);
                _records.Add(path, record);
                _sorted.Add(record);
            }

            if (old is null)
            {
                record.CreateRevision = rev;
                _liveCount++;
            }

            record.SetVersion(rev, stored);
            SetExpiryLocked(record, kv.Ttl);
            AppendEventLocked(rev, record, old is null ? WatchEventType.Added : WatchEventType.Modified, old, stored);
            return Task.FromResult(kv.Ttl is null ? stored : stored with { Ttl = kv.Ttl });
        }
    }

    private void DeleteLocked(KeyRecord record, IKey key, long rev)
    {
        KVPair old = record.Current!;
        var tombstone = new KVPair(key, null, Revisions.Format(rev));
        record.SetVersion(rev, null);
        _expiries.Remove(record);
        _liveCount--;
        AppendEventLocked(rev, record, WatchEventType.Deleted, old, tombstone);
    }

    private void AppendEventLocked(long rev, KeyRecord record, WatchEventType type, KVPair? old, KVPair current)
    {
        if (_history.IsFull)
        {
            // Drop the oldest events down to seven eighths of the limit, never the revision being written. What a
            // single large revision added beyond the limit goes with it once a later revision is written.
            int drop = _history.Count - _history.Limit + Math.Max(1, _history.Limit / 8);
            long target = _history[_history.Tail + drop - 1].Revision;
            if (target >= rev)
            {
                target = rev - 1;
            }

            if (target > _compactRevision)
            {
                CompactLocked(target);
            }
        }

        long sequence = _history.Head;
        _history.Append(new HistoryEntry(rev, record, type, old, current, record.LastSequence));
        record.LastSequence = sequence;
        _waiters.WakeAll();
    }

    private void CompactLocked(long revision)
    {
        _compactRevision = revision;
        while (_history.Tail < _history.Head && _history[_history.Tail].Revision <= revision)
        {
            // A record whose deletion is now compacted is forgotten (once: a later event of it finds it gone).
            KeyRecord record = _history.DropOldest().Record;
            if (record.IsForgettable(revision) && _records.TryGetValue(record.Path, out KeyRecord? current) && ReferenceEquals(current, record))
            {
                _records.Remove(record.Path);
                _sorted.Remove(record);
            }
        }

        _history.TrimExcess();
    }

    private void SetExpiryLocked(KeyRecord record, TimeSpan? ttl)
    {
        if (ttl is not { } lifetime)
        {
            _expiries.Remove(record);
            return;
        }

        // A rewrite moves the key's one deadline; a deadline that moves away lets the timer fire early, harmlessly.
        long due = _time.GetUtcNow().UtcTicks + lifetime.Ticks;
        _expiries.Set(record, due);
        if (due < _nextExpiryTicks)
        {
            _nextExpiryTicks = due;
            _expiryTimer.Change(TimeSpan.FromTicks(Math.Max(0, due - _time.GetUtcNow().UtcTicks)), Timeout.InfiniteTimeSpan);
        }
    }

    private void ExpireDue()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            long now = _time.GetUtcNow().UtcTicks;
            long rev = 0;
            while (_expiries.TryTakeDue(now, out KeyRecord? record))
            {
                // Keys that expire together go in one revision, like the keys of one etcd lease.
                if (rev == 0)
                {
                    rev = ++_revision;
                }

                DeleteLocked(record, record.Current!.Key, rev);
            }

            _nextExpiryTicks = _expiries.NextDueTicks;
            if (_nextExpiryTicks != long.MaxValue)
            {
                _expiryTimer.Change(TimeSpan.FromTicks(Math.Max(1, _nextExpiryTicks - now)), Timeout.InfiniteTimeSpan);
            }
        }
    }

    private DatastoreException? CheckReadRevisionLocked(long at, out long readAt)
    {
        readAt = at == 0 ? _revision : at;
        if (readAt > _revision)
        {
            return new RevisionTooLargeException($"Revision {readAt} is in the future: the current revision is {_revision}.");
        }

        return readAt < _compactRevision ? Compacted(readAt) : null;
    }

    private IEnumerable<KeyRecord> Range(string prefix)
    {
        if (prefix.Length == 0)
        {
            return _sorted;
        }

        return RangeFrom(prefix);

        IEnumerable<KeyRecord> RangeFrom(string p)
        {
            foreach (KeyRecord record in _sorted.GetViewBetween(new KeyRecord(p), KeyRecordComparer.Max))
            {
                if (!record.Path.StartsWith(p, StringComparison.Ordinal))
                {
                    yield break;
                }

                yield return record;
            }
        }
    }

    private RevisionExpiredException Compacted(long revision) =>
        new($"Revision {revision} has been compacted: the store is compacted at revision {_compactRevision}.");

    private static ResourceUpdateConflictException Conflict(string path, long expected, long actual) =>
        new($"Key '{path}' is at revision {(actual == 0 ? "(absent)" : Revisions.Format(actual))}, not {expected}.");

    private static string ListRoot(IListOptions list)
    {
        string prefix = list.DefaultPathRoot ?? throw new ArgumentException("The list options have no path root.", nameof(list));
        KeyText.ThrowIfNotValidUtf16(prefix, nameof(list));
        return prefix;
    }

    private static string ValidateKey(IKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        string? path = key.DefaultPath;
        if (string.IsNullOrEmpty(path))
        {
            throw new ArgumentException("The key's path is empty.", nameof(key));
        }

        KeyText.ThrowIfNotValidUtf16(path, nameof(key));
        return path;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private enum WriteMode
    {
        Create,
        Update,
        Apply,
    }

    private sealed class KeyRecordComparer : IComparer<KeyRecord>
    {
        public static readonly KeyRecordComparer Instance = new();

        /// <summary>A probe that sorts after every record.</summary>
        public static readonly KeyRecord Max = new(string.Empty);

        public int Compare(KeyRecord? x, KeyRecord? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }

            if (ReferenceEquals(x, Max))
            {
                return 1;
            }

            if (ReferenceEquals(y, Max))
            {
                return -1;
            }

            return CompareAsUtf8(x!.Path, y!.Path);
        }

        /// <summary>
        /// Orders paths as etcd orders keys, by their UTF-8 bytes (that is, by code point), not by UTF-16 code unit:
        /// the two differ only where a surrogate (a character beyond U+FFFF) meets a character from U+E000 to U+FFFF.
        /// </summary>
        internal static int CompareAsUtf8(string x, string y)
        {
            int common = x.AsSpan().CommonPrefixLength(y);
            if (common == x.Length || common == y.Length)
            {
                return x.Length.CompareTo(y.Length);
            }

            char a = x[common];
            char b = y[common];
            bool surrogateA = char.IsSurrogate(a);
            if (surrogateA != char.IsSurrogate(b))
            {
                return surrogateA ? 1 : -1;
            }

            return a.CompareTo(b);
        }
    }
}
