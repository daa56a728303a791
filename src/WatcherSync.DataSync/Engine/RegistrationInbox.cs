using System.Runtime.CompilerServices;

namespace WatcherSync.DataSync;

/// <summary>What the syncer of one generation said to a registration: a status, updates, or the revision it listed at.</summary>
internal readonly record struct InboxInput(int Generation, SyncStatus Status, IReadOnlyList<Update>? Updates, long? Listed = null);

/// <summary>
/// The inputs a registration's loop has still to deliver, read by one reader. While the subscriber keeps up every update
/// is delivered as it came; once more than the bound wait, the queued updates are merged per key (between statuses of
/// one generation): the newest update of each key is kept, in the order the keys first appeared, so a subscriber that
/// is behind costs memory by the keys it has yet to hear about, not by the writes. A write whose update was merged
/// away is answered by the later update of its key that replaced it (its revision is at least the write's).
/// </summary>
internal sealed class RegistrationInbox
{
    private readonly Lock _sync = new();
    private readonly int _maxQueuedChanges;

    // Under _sync: the inputs not yet read, oldest first; _queued is the number of updates among them; above
    // _mergeAbove they are merged (the bound, or twice what the last merge left, so a merge costs constant time per
    // update); _received counts every update ever written; _waiter is the reader's wait for an input; once _completed,
    // nothing more is written and the reader ends when the inputs are read.
    private readonly LinkedList<InboxInput> _inputs = new();
    private int _queued;
    private int _mergeAbove;
    private long _received;
    private TaskCompletionSource? _waiter;
    private bool _completed;

    public RegistrationInbox(int maxQueuedChanges)
    {
        _maxQueuedChanges = maxQueuedChanges;
        _mergeAbove = maxQueuedChanges;
    }

    /// <summary>Gets how many updates wait.</summary>
    public int Count
    {
        get
        {
            lock (_sync)
            {
                return _queued;
            }
        }
    }

    /// <summary>Gets how many updates were ever written.</summary>
    public long Received
    {
        get
        {
            lock (_sync)
            {
                return _received;
            }
        }
    }

    /// <summary>Queues an input; false once completed.</summary>
    public bool TryWrite(InboxInput input)
    {
        TaskCompletionSource? waiter;
        lock (_sync)
        {
            if (_completed)
            {
                return false;
            }

            _inputs.AddLast(input);
            if (input.Updates is { } updates)
            {
                _queued += updates.Count;
                _received += updates.Count;
                if (_queued > _mergeAbove)
                {
                    Merge();
                    _mergeAbove = Math.Max(_maxQueuedChanges, 2 * _queued);
                }
            }

            waiter = _waiter;
            _waiter = null;
        }

        waiter?.TrySetResult();
        return true;
    }

    /// <summary>No input follows; the reader ends once it has read those queued.</summary>
    public void Complete()
    {
        TaskCompletionSource? waiter;
        lock (_sync)
        {
            _completed = true;
            waiter = _waiter;
            _waiter = null;
        }

        waiter?.TrySetResult();
    }

    /// <summary>Reads the inputs in order until completed (or cancelled).</summary>
    public async IAsyncEnumerable<InboxInput> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            InboxInput? next = null;
            Task? wait = null;
            lock (_sync)
            {
                if (_inputs.First is { } first)
                {
                    _inputs.RemoveFirst();
                    next = first.Value;
                    _queued -= first.Value.Updates?.Count ?? 0;
                    if (_queued <= _maxQueuedChanges)
                    {
                        _mergeAbove = _maxQueuedChanges;
                    }
                }
                else if (!_completed)
                {
                    _waiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    wait = _waiter.Task;
                }
            }

            if (next is { } input)
            {
                yield return input;
            }
            else if (wait is not null)
            {
                await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                yield break;
            }
        }
    }

    /// <summary>Merges each run of updates of one generation into one input: the newest update per key (under the lock).</summary>
    private void Merge()
    {
        var merged = new LinkedList<InboxInput>();
        List<Update>? run = null;
        Dictionary<string, int>? positions = null;
        int generation = 0;
        foreach (InboxInput input in _inputs)
        {
            if (input.Updates is null || run is null || input.Generation != generation)
            {
                Flush();
                if (input.Updates is null)
                {
                    merged.AddLast(input);
                    continue;
                }

                run = [];
                positions = new Dictionary<string, int>(StringComparer.Ordinal);
                generation = input.Generation;
            }

            foreach (Update update in input.Updates)
            {
                string key = update.KVPair.Key.DefaultPath;
                if (positions!.TryGetValue(key, out int position))
                {
                    run[position] = update;
                }
                else
                {
                    positions[key] = run.Count;
                    run.Add(update);
                }
            }
        }

        Flush();
        _inputs.Clear();
        _queued = 0;
        foreach (InboxInput input in merged)
        {
            _inputs.AddLast(input);
            _queued += input.Updates?.Count ?? 0;
        }

        void Flush()
        {
            if (run is not null)
            {
                merged.AddLast(new InboxInput(generation, default, run));
                run = null;
            }
        }
    }
}
