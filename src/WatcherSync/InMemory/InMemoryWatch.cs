using System.Threading.Channels;

namespace WatcherSync.InMemory;

/// <summary>
/// A watch on the in-memory store. It is its own channel reader: it reads the store's shared event history with
/// a cursor, so a write costs the same whatever the number of watches, and a watch that falls behind the retained
/// history gets a <see cref="RevisionExpiredException"/> instead of slowing the writers down.
/// </summary>
internal sealed class InMemoryWatch : ChannelReader<WatchEvent>, IWatch
{
    private const int BatchSize = 256;

    private readonly InMemoryBackend _store;
    private readonly IListOptions _list;
    private readonly string _prefix;
    private readonly bool _keysAsStored;
    private readonly long _startRevision;
    private readonly ITimer? _bookmarkTimer;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly WaiterList.Waiter _waiter = new();
    private readonly HistoryEntry[] _raw = new HistoryEntry[BatchSize];
    private readonly WatchEvent?[] _ready = new WatchEvent?[BatchSize + 1];
    private int _readyPos;
    private int _readyCount;
    private int _rawCount;

    // Guarded by the store's lock.
    private long _nextSequence;
    private long _lastRevision;
    private bool _bookmarkDue;
    private bool _closed;

    public InMemoryWatch(InMemoryBackend store, IListOptions list, string prefix, long firstSequence, bool bookmarks, long startRevision)
    {
        _store = store;
        _list = list;
        _prefix = prefix;
        _keysAsStored = list is PrefixListOptions;
        _nextSequence = firstSequence;
        _startRevision = startRevision;
        _lastRevision = startRevision;
        if (bookmarks)
        {
            _bookmarkTimer = store.TimeProvider.CreateTimer(static s => ((InMemoryWatch)s!).BookmarkTick(), this, store.BookmarkInterval, store.BookmarkInterval);
        }
    }

    public ChannelReader<WatchEvent> Events => this;

    public override Task Completion => _completion.Task;

    public override bool TryRead(out WatchEvent item)
    {
        if (_readyPos < _readyCount || Fill())
        {
            item = _ready[_readyPos]!;
            _ready[_readyPos++] = null;
            return true;
        }

        item = null!;
        return false;
    }

    public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        return _readyPos < _readyCount ? new ValueTask<bool>(true) : WaitSlowAsync(cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        Close();
        _store.RemoveWatch(this);
        return ValueTask.CompletedTask;
    }

    /// <summary>Ends the watch: the reader sees the end of the channel, and the store no longer holds it as a waiter.</summary>
    internal void Close()
    {
        lock (_store.Sync)
        {
            _closed = true;
            _store.Waiters.Wake(_waiter);
        }

        _bookmarkTimer?.Dispose();
        _completion.TrySetResult();
    }

    private async ValueTask<bool> WaitSlowAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task? signal = null;
            bool filled;
            lock (_store.Sync)
            {
                filled = FillLocked();
                if (!filled)
                {
                    if (_closed)
                    {
                        _completion.TrySetResult();
                        return false;
                    }

                    signal = _store.Waiters.Wait(_waiter);
                }
            }

            if (filled)
            {
                if (Translate())
                {
                    return true;
                }

                continue;
            }

            await signal!.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private bool Fill()
    {
        while (true)
        {
            lock (_store.Sync)
            {
                if (!FillLocked())
                {
                    return false;
                }
            }

            if (Translate())
            {
                return true;
            }
        }
    }

    /// <summary>
    /// Copies the next retained events into the raw buffer (or queues the error or bookmark that comes next).
    /// Returns true when there is something to translate.
    /// </summary>
    private bool FillLocked()
    {
        _rawCount = 0;
        _readyPos = 0;
        _readyCount = 0;
        if (_closed)
        {
            return false;
        }

        EventHistory history = _store.History;
        if (_nextSequence < history.Tail && _store.CompactRevisionLocked <= _startRevision)
        {
            // A watch from a future revision lost only events it would skip anyway.
            _nextSequence = history.Tail;
        }

        if (_nextSequence < history.Tail)
        {
            // Events this watch still had to deliver were compacted away: it must relist, as on etcd.
            _closed = true;
            _ready[_readyCount++] = WatchEvent.FromError(new RevisionExpiredException(
                $"The watch fell behind the retained history: events after revision {_lastRevision} have been compacted."));
            return true;
        }

        // Only a copy under the lock, so that writers wait as little as possible: the prefix is checked outside it.
        // A watch from a revision the store has not reached yet delivers nothing up to that revision, as on etcd.
        while (_nextSequence < history.Head && _rawCount < BatchSize)
        {
            ref readonly HistoryEntry entry = ref history[_nextSequence++];
            if (entry.Revision > _startRevision)
            {
                _raw[_rawCount++] = entry;
            }
        }

        if (_rawCount > 0)
        {
            return true;
        }

        // Every interval, also on an idle store (as etcd's progress notifications): a quiet watch is heard from, so no
        // liveness check depends on write traffic. Not before a watch from a future revision has reached its start.
        long current = _store.CurrentRevisionLocked;
        if (_bookmarkDue && _nextSequence == history.Head && current >= _lastRevision)
        {
            _bookmarkDue = false;
            _lastRevision = current;
            _ready[_readyCount++] = WatchEvent.Bookmark(Revisions.Format(current));
            return true;
        }

        return false;
    }

    /// <summary>Turns the raw buffer into the events this watch covers, outside the lock (list options are user code).</summary>
    private bool Translate()
    {
        int count = _readyCount;
        for (int i = 0; i < _rawCount; i++)
        {
            ref HistoryEntry entry = ref _raw[i];
            if (_prefix.Length > 0 && !entry.Record.Path.StartsWith(_prefix, StringComparison.Ordinal))
            {
                entry = default;
                continue;
            }

            WatchEvent watchEvent;
            if (_keysAsStored)
            {
                watchEvent = new WatchEvent(entry.Type, entry.Old, entry.New);
            }
            else
            {
                if (InMemoryBackend.KeyFor(_list, entry.Record.Path) is not { } key)
                {
                    entry = default;
                    continue;
                }

                watchEvent = new WatchEvent(entry.Type, entry.Old is null ? null : entry.Old with { Key = key }, entry.New is null ? null : entry.New with { Key = key });
            }

            _lastRevision = entry.Revision;
            _ready[count++] = watchEvent;
            entry = default;
        }

        _rawCount = 0;
        _readyCount = count;
        return _readyCount > _readyPos;
    }

    private void BookmarkTick()
    {
        lock (_store.Sync)
        {
            _bookmarkDue = true;
            _store.Waiters.Wake(_waiter);
        }
    }
}
