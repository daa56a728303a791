using Google.Protobuf;

namespace WatcherSync.Relay.Server;

/// <summary>A feed's picture at one sequence number, encoded once into chunks per prefix bucket and shared by every client that takes it.</summary>
internal sealed class FeedSnapshot(long sequence, SyncStatus status, ByteString[][] chunks, int keys, long bytes)
{
    private volatile bool _evicted;

    public long Sequence { get; } = sequence;

    public SyncStatus Status { get; } = status;

    /// <summary>Gets the encoded <c>KeyValueBatch</c> chunks of each bucket.</summary>
    public ByteString[][] Chunks { get; } = chunks;

    /// <summary>
    /// Gets the compressed forms of <see cref="Chunks"/>, made on demand and kept as long as the snapshot is (each no
    /// larger than its plain chunk, so a snapshot with compression in use is at most twice its plain size).
    /// </summary>
    public CompressedChunks Compressed { get; } = new(chunks);

    public int Keys { get; } = keys;

    /// <summary>Gets the plain bytes of <see cref="Chunks"/>.</summary>
    public long Bytes { get; } = bytes;

    /// <summary>
    /// Gets whether the feed has given this snapshot up: it was superseded while too many newer superseded snapshots
    /// were still being read. Its readers are cut off, so that it can be collected; once set it stays set.
    /// </summary>
    public bool Evicted => _evicted;

    public void Evict() => _evicted = true;
}
