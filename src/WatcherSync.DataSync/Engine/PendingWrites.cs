namespace WatcherSync.DataSync;

/// <summary>
/// The writes of this engine that one registration still has to answer, each from just before its datastore call until
/// the subscriber acknowledges a change of its key at or after the write's revision, or a resync taken at or after it.
/// Nothing is kept about a write once it is answered, nor about keys: memory is proportional to the writes in flight.
/// </summary>
internal sealed class PendingWrites
{
    private readonly Lock _sync = new();

    // State, all under _sync:
    // - _unresolved: writes whose datastore call has not returned, so their revisions are unknown. Each keeps what the
    //   subscriber acknowledged meanwhile (the acknowledgement that answers it may come before the call returns).
    // - _expected: per key, the keys of resolved writes not yet answered, each with the revision it needs.
    // Invariants: a write is in _unresolved, or has keys in _expected, or is complete (never two of these); only an
    // unresolved write keeps acknowledgements; once _closed both are empty, and every write begun after is complete.
    private readonly HashSet<PendingWrite> _unresolved = [];
    private readonly Dictionary<string, List<Expected>> _expected = new(StringComparer.Ordinal);
    private bool _closed;

    /// <summary>Gets how many writes are in flight plus how many written keys wait for their answer.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _unresolved.Count + _expected.Values.Sum(l => l.Count);
            }
        }
    }

    /// <summary>Registers a write of <paramref name="key"/> (of every key under it when <paramref name="prefix"/>) about to be made.</summary>
    public PendingWrite Begin(string key, bool prefix)
    {
        var write = new PendingWrite(key, prefix);
        lock (_sync)
        {
            if (_closed)
            {
                write.Seal();
            }
            else
            {
                _unresolved.Add(write);
            }
        }

        return write;
    }

    /// <summary>
    /// The datastore call of <paramref name="write"/> returned, having written <paramref name="keys"/> (those this
    /// registration delivers): each is answered by what was acknowledged meanwhile, or waits for what comes next.
    /// </summary>
    public void Resolve(PendingWrite write, IEnumerable<WrittenKey> keys)
    {
        lock (_sync)
        {
            if (!_unresolved.Remove(write))
            {
                // Released meanwhile.
                return;
            }

            List<Acknowledgement> seen = write.TakeSeen();
            foreach (WrittenKey key in keys)
            {
                write.Expect();
                Acknowledgement? answer = seen.Find(a => a.Answers(key));
                if (answer is not null)
                {
                    write.Answer(answer.Error);
                }
                else
                {
                    if (!_expected.TryGetValue(key.Key, out List<Expected>? list))
                    {
                        _expected[key.Key] = list = [];
                    }

                    list.Add(new Expected(write, key));
                }
            }

            write.Seal();
        }
    }

    /// <summary>The datastore call of <paramref name="write"/> failed: nothing was written, nothing is awaited.</summary>
    public void Abandon(PendingWrite write)
    {
        lock (_sync)
        {
            _unresolved.Remove(write);
            write.Seal();
        }
    }

    /// <summary>The subscriber acknowledged a change event holding <paramref name="changes"/> (keys with their revisions).</summary>
    public void Acknowledged(IReadOnlyList<(string Key, long Revision)> changes, Exception? error)
    {
        var acknowledgement = new Acknowledgement(changes, null, 0, error);
        lock (_sync)
        {
            foreach (PendingWrite write in _unresolved)
            {
                if (changes.Any(c => write.Concerns(c.Key)))
                {
                    write.See(acknowledgement);
                }
            }

            foreach ((string key, _) in changes)
            {
                if (_expected.TryGetValue(key, out List<Expected>? list))
                {
                    AnswerWhere(key, list, e => acknowledgement.Answers(e.Key), error);
                }
            }
        }
    }

    /// <summary>
    /// The subscriber acknowledged a resync holding the state at <paramref name="revision"/>, whose keys had the
    /// revisions in <paramref name="picture"/>: every write it folded in is answered by it.
    /// </summary>
    public void Resynced(long revision, IReadOnlyDictionary<string, long> picture, Exception? error)
    {
        var acknowledgement = new Acknowledgement(null, picture, revision, error);
        lock (_sync)
        {
            foreach (PendingWrite write in _unresolved)
            {
                write.See(acknowledgement);
            }

            foreach ((string key, List<Expected> list) in _expected.ToList())
            {
                AnswerWhere(key, list, e => acknowledgement.Answers(e.Key), error);
            }
        }
    }

    /// <summary>Lets go the writes of keys for which <paramref name="released"/> holds (of every write, for good, when null).</summary>
    public void Release(Func<string, bool>? released = null)
    {
        lock (_sync)
        {
            if (released is null)
            {
                _closed = true;
                foreach (PendingWrite write in _unresolved)
                {
                    write.Seal();
                }

                _unresolved.Clear();
            }
            else
            {
                _unresolved.RemoveWhere(w =>
                {
                    bool gone = !w.Prefix && released(w.Key);
                    if (gone)
                    {
                        w.Seal();
                    }

                    return gone;
                });
            }

            foreach ((string key, List<Expected> list) in _expected.ToList())
            {
                if (released is null || released(key))
                {
                    AnswerWhere(key, list, _ => true, null);
                }
            }
        }
    }

    private void AnswerWhere(string key, List<Expected> list, Predicate<Expected> answered, Exception? error)
    {
        list.RemoveAll(e =>
        {
            if (!answered(e))
            {
                return false;
            }

            e.Write.Answer(error);
            return true;
        });

        if (list.Count == 0)
        {
            _expected.Remove(key);
        }
    }

    private sealed record Expected(PendingWrite Write, WrittenKey Key);
}
