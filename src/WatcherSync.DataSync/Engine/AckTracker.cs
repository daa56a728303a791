using System.Globalization;

namespace WatcherSync.DataSync;

/// <summary>
/// Matches writers with the acknowledgements of one registration: a writer waits for the first acknowledged
/// change of its key after the revision it wrote at (or superseding it).
/// </summary>
internal sealed class AckTracker
{
    private readonly Lock _sync = new();
    private readonly Dictionary<string, (long Revision, Exception? Error)> _lastAcked = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Waiter>> _waiters = new(StringComparer.Ordinal);
    private bool _closed;

    /// <summary>Waits for an acknowledged change of <paramref name="key"/> at a revision after <paramref name="after"/>; returns its error.</summary>
    public Task<Exception?> WaitAsync(string key, long after)
    {
        lock (_sync)
        {
            if (_closed)
            {
                return Task.FromResult<Exception?>(null);
            }

            if (_lastAcked.TryGetValue(key, out (long Revision, Exception? Error) acked) && acked.Revision > after)
            {
                return Task.FromResult(acked.Error);
            }

            var waiter = new Waiter(after);
            if (!_waiters.TryGetValue(key, out List<Waiter>? list))
            {
                _waiters[key] = list = [];
            }

            list.Add(waiter);
            return waiter.Completion.Task;
        }
    }

    /// <summary>Records the outcome of a delivered event for each of its keys.</summary>
    public void Acknowledged(IEnumerable<(string Key, string? Revision)> changes, Exception? error)
    {
        lock (_sync)
        {
            foreach ((string key, string? revisionText) in changes)
            {
                if (!long.TryParse(revisionText, NumberStyles.None, CultureInfo.InvariantCulture, out long revision))
                {
                    continue;
                }

                _lastAcked[key] = (revision, error);
                if (_waiters.TryGetValue(key, out List<Waiter>? list))
                {
                    list.RemoveAll(w =>
                    {
                        if (w.After < revision)
                        {
                            w.Completion.TrySetResult(error);
                            return true;
                        }

                        return false;
                    });

                    if (list.Count == 0)
                    {
                        _waiters.Remove(key);
                    }
                }
            }
        }
    }

    /// <summary>Releases the writers waiting on keys the registration no longer delivers (all keys when null).</summary>
    public void Release(Func<string, bool>? covers = null)
    {
        lock (_sync)
        {
            _closed |= covers is null;
            foreach (string key in _waiters.Keys.ToList())
            {
                if (covers is null || covers(key))
                {
                    foreach (Waiter waiter in _waiters[key])
                    {
                        waiter.Completion.TrySetResult(null);
                    }

                    _waiters.Remove(key);
                }
            }
        }
    }

    private sealed class Waiter(long after)
    {
        public long After { get; } = after;

        public TaskCompletionSource<Exception?> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
