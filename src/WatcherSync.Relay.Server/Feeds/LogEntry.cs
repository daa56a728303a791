using Google.Protobuf;

namespace WatcherSync.Relay.Server;

/// <summary>
/// One sequenced item of a feed's log: either a status change or a batch of updates, encoded once per prefix bucket
/// into bounded chunks (the bytes are shared by every client that is sent them).
/// </summary>
internal sealed class LogEntry
{
    public LogEntry(long sequence, SyncStatus status, FeedPosition position)
    {
        Sequence = sequence;
        IsStatus = true;
        Status = status;
        Position = position;
    }

    public LogEntry(long sequence, ByteString[]?[] batches, long bytes, FeedPosition position, Func<ByteString, ByteString?>? compress = null)
    {
        Sequence = sequence;
        Batches = batches;
        Compressed = new CompressedChunks(batches, compress);
        Bytes = bytes;
        Position = position;
    }

    public long Sequence { get; }

    public bool IsStatus { get; }

    public SyncStatus Status { get; }

    /// <summary>Gets the encoded <c>KeyValueBatch</c> chunks of each bucket; null where the bucket had no update.</summary>
    public ByteString[]?[]? Batches { get; }

    /// <summary>Gets the plain bytes of <see cref="Batches"/>.</summary>
    public long Bytes { get; }

    /// <summary>Gets the compressed forms of <see cref="Batches"/>, made on demand (null for a status change).</summary>
    public CompressedChunks? Compressed { get; }

    /// <summary>Gets where the feed's picture stands once this entry is applied.</summary>
    public FeedPosition Position { get; }
}
