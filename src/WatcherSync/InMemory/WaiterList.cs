namespace WatcherSync.InMemory;

/// <summary>
/// The watches waiting for the store to change. It alone registers and removes them, and each
/// <see cref="Waiter"/> knows whether it is registered, so a watch is in the list at most once whatever wakes it (a
/// write, a bookmark tick, its close), and a closed watch is never kept. Not thread-safe: the store's lock guards it.
/// </summary>
internal sealed class WaiterList
{
    private readonly List<Waiter> _waiting = [];

    /// <summary>Gets how many waiters are registered.</summary>
    public int Count => _waiting.Count;

    /// <summary>Registers <paramref name="waiter"/> unless it already is, and returns the task its wake-up completes.</summary>
    public Task Wait(Waiter waiter)
    {
        if (!waiter.IsRegistered)
        {
            waiter.Signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            waiter.Index = _waiting.Count;
            _waiting.Add(waiter);
        }

        return waiter.Signal!.Task;
    }

    /// <summary>Wakes <paramref name="waiter"/> and unregisters it; nothing happens when it is not registered.</summary>
    public void Wake(Waiter waiter)
    {
        if (!waiter.IsRegistered)
        {
            return;
        }

        int index = waiter.Index;
        // Swap with the last entry, so that one waiter leaves in constant time however many wait.
        int last = _waiting.Count - 1;
        Waiter moved = _waiting[last];
        _waiting[index] = moved;
        moved.Index = index;
        _waiting.RemoveAt(last);
        Complete(waiter);
    }

    /// <summary>Wakes and unregisters every waiter.</summary>
    public void WakeAll()
    {
        foreach (Waiter waiter in _waiting)
        {
            Complete(waiter);
        }

        _waiting.Clear();
    }

    private static void Complete(Waiter waiter)
    {
        waiter.Index = -1;

        // Continuations run asynchronously: completing under the store's lock runs no reader code here.
        waiter.Signal!.TrySetResult();
        waiter.Signal = null;
    }

    /// <summary>One watch's place in the list. Only <see cref="WaiterList"/> changes it.</summary>
    internal sealed class Waiter
    {
        /// <summary>Gets a value indicating whether the waiter is in the list.</summary>
        public bool IsRegistered => Index >= 0;

        internal int Index { get; set; } = -1;

        internal TaskCompletionSource? Signal { get; set; }
    }
}
