using Google.Protobuf;
using WatcherSync.Relay.Protocol;

namespace WatcherSync.Relay.Server;

/// <summary>
/// Packs key-values into encoded <c>KeyValueBatch</c> chunks, one list per prefix bucket, each chunk closed once it
/// reaches the chunk size. Snapshots and log entries are both made with it, so every message the relay sends is
/// bounded the same way: a chunk is at most the chunk size plus one value (itself at most MaxValueBytes).
/// </summary>
internal sealed class ChunkEncoder
{
    // Protobuf framing of one item inside a KeyValueBatch (tag and length prefix).
    private const int ItemFraming = 5;

    private readonly int _chunkBytes;
    private readonly List<ByteString>?[] _chunks;
    private readonly KeyValueBatch?[] _current;
    private readonly int[] _currentSize;

    public ChunkEncoder(int buckets, int chunkBytes)
    {
        _chunkBytes = chunkBytes;
        _chunks = new List<ByteString>?[buckets];
        _current = new KeyValueBatch?[buckets];
        _currentSize = new int[buckets];
    }

    /// <summary>Gets the bytes of every chunk closed so far.</summary>
    public long Bytes { get; private set; }

    public void Add(int bucket, KeyValue item)
    {
        (_current[bucket] ??= new KeyValueBatch()).Items.Add(item);
        _currentSize[bucket] += item.CalculateSize() + ItemFraming;
        if (_currentSize[bucket] >= _chunkBytes)
        {
            Close(bucket);
        }
    }

    /// <summary>Closes the open chunks and returns each bucket's chunks (null for a bucket that had none).</summary>
    public ByteString[]?[] Finish()
    {
        var result = new ByteString[]?[_chunks.Length];
        for (int i = 0; i < _chunks.Length; i++)
        {
            Close(i);
            result[i] = _chunks[i]?.ToArray();
        }

        return result;
    }

    private void Close(int bucket)
    {
        if (_current[bucket] is { } batch)
        {
            ByteString bytes = batch.ToByteString();
            (_chunks[bucket] ??= []).Add(bytes);
            Bytes += bytes.Length;
            _current[bucket] = null;
            _currentSize[bucket] = 0;
        }
    }
}
