using System.Diagnostics;

namespace WatcherSync;

/// <summary>
/// The in-order queue of a <see cref="DedupeBuffer"/>: a doubly linked list of <see cref="DedupeEntry"/> nodes, so
/// an update can be replaced in place or removed from the middle in O(1), and a small pool of spare nodes so key
/// churn does not allocate. Not thread-safe: the buffer calls it under its lock.
/// </summary>
internal sealed class DedupeQueue
{
    /// <summary>How many spare nodes are kept; beyond that they are left to the GC so memory follows the live keys.</summary>
    internal const int MaxPooled = 1024;

    private DedupeEntry? _head;
    private DedupeEntry? _tail;
    private DedupeEntry? _free;
    private int _freeCount;

    /// <summary>Gets how many nodes are queued (updates, statuses and failures).</summary>
    public int Count { get; private set; }

    /// <summary>Gets the oldest node, or null when the queue is empty.</summary>
    public DedupeEntry? Head => _head;

    /// <summary>Gets the newest node, or null when the queue is empty.</summary>
    public DedupeEntry? Tail => _tail;

    /// <summary>Gets how many spare nodes are pooled.</summary>
    public int PooledCount => _freeCount;

    /// <summary>Takes a clean node from the pool, or makes one.</summary>
    public DedupeEntry Rent()
    {
        DedupeEntry? node = _free;
        if (node is null)
        {
            return new DedupeEntry();
        }

        _free = node.Previous;
        node.Previous = null;
        _freeCount--;
        return node;
    }

    /// <summary>Gives back a node that is no longer queued nor in the key map.</summary>
    public void Return(DedupeEntry node)
    {
        Debug.Assert(!node.Queued, "A queued node cannot be pooled.");
        if (_freeCount >= MaxPooled)
        {
            return;
        }

        node.Key = string.Empty;
        node.KeyObject = null;
        node.Pending = null;
        node.PendingDelete = false;
        node.Held = false;
        node.SeenEpoch = 0;
        node.Kind = DedupeItemKind.Key;
        node.Status = default;
        node.Failure = null;
        node.Next = null;
        node.Previous = _free;
        _free = node;
        _freeCount++;
    }

    /// <summary>Links <paramref name="node"/> at the tail.</summary>
    public void Append(DedupeEntry node)
    {
        Debug.Assert(!node.Queued, "A node is queued at most once.");
        node.Queued = true;
        node.Previous = _tail;
        node.Next = null;
        if (_tail is null)
        {
            _head = node;
        }
        else
        {
            _tail.Next = node;
        }

        _tail = node;
        Count++;
    }

    /// <summary>Unlinks and returns the head, or null when the queue is empty.</summary>
    public DedupeEntry? Dequeue()
    {
        DedupeEntry? node = _head;
        if (node is not null)
        {
            Unlink(node);
        }

        return node;
    }

    /// <summary>
    /// Unlinks an update or a failure from anywhere in the queue. When that leaves two statuses side by side the earlier
    /// one is dropped (a later status replaces an earlier one), so cancelled items cannot pile statuses up.
    /// </summary>
    public void Remove(DedupeEntry node)
    {
        Debug.Assert(!node.IsStatus, "Statuses leave the queue only at its head.");
        DedupeEntry? previous = node.Previous;
        DedupeEntry? next = node.Next;
        Unlink(node);
        if (previous is { IsStatus: true } && next is { IsStatus: true })
        {
            Unlink(previous);
            Return(previous);
        }
    }

    /// <summary>Forgets every node, queued or pooled.</summary>
    public void Clear()
    {
        _head = null;
        _tail = null;
        _free = null;
        _freeCount = 0;
        Count = 0;
    }

    private void Unlink(DedupeEntry node)
    {
        Debug.Assert(node.Queued, "Only a queued node can be unlinked.");
        if (node.Previous is null)
        {
            _head = node.Next;
        }
        else
        {
            node.Previous.Next = node.Next;
        }

        if (node.Next is null)
        {
            _tail = node.Previous;
        }
        else
        {
            node.Next.Previous = node.Previous;
        }

        node.Previous = null;
        node.Next = null;
        node.Queued = false;
        Count--;
    }
}
