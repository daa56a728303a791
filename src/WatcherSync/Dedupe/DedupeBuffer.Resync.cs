namespace WatcherSync;

/// <summary>The resync side of the buffer: a reconnected upstream, the queue it discards, the deletes its InSync implies.</summary>
public sealed partial class DedupeBuffer
{
    /// <summary>
    /// Tells the buffer the upstream reconnected and will resync. The updates and statuses queued and not yet handed to
    /// the sink are discarded (failures are kept, in order), so nothing stale reaches the sink during the resync;
    /// the sink keeps what it holds. A sync failure kept is preceded by
    /// <see cref="SyncStatus.WaitForDatastore"/> if the sink was not told that status, so the sink never hears of a lost
    /// datastore while it was last told it is in sync. Keys the sink holds that no update mentions before the next
    /// <see cref="SyncStatus.InSync"/> are deleted just before that InSync. A second call before that InSync starts
    /// the count again, discarding the first partial resync.
    /// </summary>
    public void OnConnectionRestarted()
    {
        int discarded;
        lock (_sync)
        {
            if (_stopped || _completed)
            {
                return;
            }

            _resyncInProgress = true;
            _resyncEpoch++;
            discarded = DiscardQueued();
        }

        Log.ConnectionRestarted(_logger, discarded);
    }

    /// <summary>
    /// Under the lock: empties the queue. A held key keeps its entry (the sink still has it) without its pending
    /// update; a key the sink never had is forgotten. Failures are kept in order, a sync failure with a WaitForDatastore
    /// before it when the sink would not have been told that status. The status the sink will have been told once
    /// they are delivered becomes the last received, so the new connection's statuses are compared with it. Returns how many updates were discarded.
    /// </summary>
    private int DiscardQueued()
    {
        int discarded = 0;
        List<DedupeEntry>? failures = null;
        while (_queue.Dequeue() is { } node)
        {
            if (node.IsStatus)
            {
                _queue.Return(node);
                continue;
            }

            if (!node.IsKey)
            {
                // A failure is news about the datastore, not a stale picture of it: it is kept, in order.
                (failures ??= []).Add(node);
                continue;
            }

            discarded++;
            node.Pending = null;
            node.PendingDelete = false;
            if (!node.Held)
            {
                _entries.Remove(node.Key);
                _queue.Return(node);
            }
        }

        // The statuses are gone, so the sink stays at what it was last told. A sync failure kept goes with its
        // WaitForDatastore: a sink is never told the datastore is lost while it believes it is in sync.
        SyncStatus? told = _sinkStatus;
        foreach (DedupeEntry failure in failures ?? [])
        {
            if (failure.Kind == DedupeItemKind.SyncFailed && told != SyncStatus.WaitForDatastore)
            {
                DedupeEntry status = _queue.Rent();
                status.Kind = DedupeItemKind.Status;
                status.Status = SyncStatus.WaitForDatastore;
                _queue.Append(status);
                told = SyncStatus.WaitForDatastore;
            }

            _queue.Append(failure);
        }

        _coalesced += discarded;
        _lastStatusReceived = told;
        return discarded;
    }

    /// <summary>Under the lock: deletes every key not mentioned since the last restart. Returns how many.</summary>
    private int FinishResync()
    {
        _resyncInProgress = false;
        List<DedupeEntry>? stale = null;
        foreach (DedupeEntry entry in _entries.Values)
        {
            if (entry.SeenEpoch != _resyncEpoch && !(entry.Queued && entry.PendingDelete))
            {
                (stale ??= []).Add(entry);
            }
        }

        if (stale is null)
        {
            return 0;
        }

        foreach (DedupeEntry entry in stale)
        {
            Apply(entry, new KVPair(entry.KeyObject!, null), isDelete: true);
        }

        return stale.Count;
    }
}
