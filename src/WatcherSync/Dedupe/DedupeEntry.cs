namespace WatcherSync;

/// <summary>
/// A node of the <see cref="DedupeQueue"/>: either a queued status, or everything the buffer knows about one key
/// (whether the sink holds it, and the update waiting for it, if any). A key's entry lives while the sink holds the
/// key or an update for it is queued, so updates to known keys allocate nothing.
/// </summary>
internal sealed class DedupeEntry
{
    /// <summary>The key, as serialized (empty for a status).</summary>
    public string Key = string.Empty;

    /// <summary>The key object of the latest update, used to make the deletes a resync implies.</summary>
    public IKey? KeyObject;

    /// <summary>The update waiting for the sink; null when none is queued.</summary>
    public KVPair? Pending;

    /// <summary>Whether <see cref="Pending"/> deletes the key.</summary>
    public bool PendingDelete;

    /// <summary>Whether the sink holds the key (it was handed a New or Updated and no Deleted since).</summary>
    public bool Held;

    /// <summary>The last resync epoch in which an update for the key arrived.</summary>
    public int SeenEpoch;

    /// <summary>Whether this node is a status rather than a key.</summary>
    public bool IsStatus;

    /// <summary>The status, when <see cref="IsStatus"/>.</summary>
    public SyncStatus Status;

    /// <summary>Whether the node is linked into the queue.</summary>
    public bool Queued;

    /// <summary>The neighbour towards the head (older); also the free-list link while pooled.</summary>
    public DedupeEntry? Previous;

    /// <summary>The neighbour towards the tail (newer).</summary>
    public DedupeEntry? Next;
}
