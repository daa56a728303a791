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

    /// <summary>What this node is: a key's update, or a status or failure in its place among them.</summary>
    public DedupeItemKind Kind;

    /// <summary>The status, when <see cref="Kind"/> is <see cref="DedupeItemKind.Status"/>.</summary>
    public SyncStatus Status;

    /// <summary>The failure: a <see cref="ParseFailure"/> or the <see cref="Exception"/> of a sync failure.</summary>
    public object? Failure;

    /// <summary>Gets whether this node is a status.</summary>
    public bool IsStatus => Kind == DedupeItemKind.Status;

    /// <summary>Gets whether this node is a key's entry (rather than a status or a failure).</summary>
    public bool IsKey => Kind == DedupeItemKind.Key;

    /// <summary>Whether the node is linked into the queue.</summary>
    public bool Queued;

    /// <summary>The neighbour towards the head (older); also the free-list link while pooled.</summary>
    public DedupeEntry? Previous;

    /// <summary>The neighbour towards the tail (newer).</summary>
    public DedupeEntry? Next;
}

/// <summary>What a <see cref="DedupeEntry"/> stands for in the queue.</summary>
internal enum DedupeItemKind : byte
{
    /// <summary>A key: whether the sink holds it, and its queued update.</summary>
    Key,

    /// <summary>A status.</summary>
    Status,

    /// <summary>A raw key and value the upstream could not parse (<see cref="ISyncerParseFailCallbacks"/>).</summary>
    ParseFailed,

    /// <summary>A lost datastore (<see cref="ISyncFailCallbacks"/>).</summary>
    SyncFailed,

    /// <summary>The upstream is stopping: what follows is its stop, not real deletes (<see cref="ISyncerStoppingCallbacks"/>).</summary>
    Stopping,
}

/// <summary>The item a <see cref="DedupeItemKind.Stopping"/> node carries to the sink.</summary>
internal sealed class StoppingNotice
{
    public static readonly StoppingNotice Instance = new();

    private StoppingNotice()
    {
    }
}
