namespace WatcherSync;

/// <summary>
/// The failures queued in a <see cref="DedupeBuffer"/>, coalesced so they stay bounded like the keys: at most one parse
/// failure per raw key and one sync failure wait for the sink. A newer failure of the same raw key (or a newer sync
/// failure) takes the queued one's slot out of the queue and is queued at the tail, in its own place among the
/// updates: a failure never overtakes what was queued before it (README promise 6), so the sink, when it hears of a
/// failure, already holds for every key what the upstream held then or something newer. The failure dropped is the
/// older report of the same thing (the key is still bad, the datastore still lost), as a coalesced update is an older
/// value. A good update of a key whose parse failure is queued leaves that failure queued: the bad write happened,
/// and the update follows it. Not thread-safe: the buffer calls it under its lock.
/// </summary>
internal sealed class DedupeFailures
{
    // Invariants: every failure node in the buffer's queue is in exactly one of _parseFailures (under its raw key) or
    // _syncFailed, and every node here is queued. So the queue holds at most one failure per distinct raw key, plus one.
    private readonly Dictionary<string, DedupeEntry> _parseFailures = new(StringComparer.Ordinal);
    private DedupeEntry? _syncFailed;

    /// <summary>Queues a failure at the tail of <paramref name="queue"/>. Returns whether it replaced a queued one.</summary>
    public bool Enqueue(DedupeQueue queue, DedupeItemKind kind, object failure)
    {
        DedupeEntry? old = kind == DedupeItemKind.SyncFailed
            ? _syncFailed
            : _parseFailures.GetValueOrDefault(((ParseFailure)failure).RawKey);
        if (old is not null)
        {
            queue.Remove(old);
            queue.Return(old);
        }

        DedupeEntry node = queue.Rent();
        node.Kind = kind;
        node.Failure = failure;
        queue.Append(node);
        if (kind == DedupeItemKind.SyncFailed)
        {
            _syncFailed = node;
        }
        else
        {
            _parseFailures[((ParseFailure)failure).RawKey] = node;
        }

        return old is not null;
    }

    /// <summary>A failure node left the queue (taken for the sink, or dropped): it is no longer coalesced into.</summary>
    public void Dequeued(DedupeEntry node)
    {
        if (ReferenceEquals(node, _syncFailed))
        {
            _syncFailed = null;
        }
        else if (node.Failure is ParseFailure parse && _parseFailures.TryGetValue(parse.RawKey, out DedupeEntry? queued) && ReferenceEquals(queued, node))
        {
            _parseFailures.Remove(parse.RawKey);
            if (_parseFailures.Count == 0)
            {
                _parseFailures.TrimExcess();
            }
        }
    }

    /// <summary>Forgets every failure (the queue was cleared).</summary>
    public void Clear()
    {
        _parseFailures.Clear();
        _parseFailures.TrimExcess();
        _syncFailed = null;
    }
}
