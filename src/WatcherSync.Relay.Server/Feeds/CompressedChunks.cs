using Google.Protobuf;

namespace WatcherSync.Relay.Server;

/// <summary>
/// The compressed forms of one snapshot's or log entry's chunks, kept beside the plain ones: each chunk is compressed
/// at most once, on the first demand of a client that accepts compression, and shared by every such client after.
/// <para>
/// State: <see cref="_forms"/> is null until a client first asks (so an entry no such client reads costs nothing more
/// than this object, about 48 B); then <see cref="_forms"/>[bucket][index] is null until the chunk was compressed, then
/// either its compressed bytes or the plain chunk itself (compression did not pay: it is sent plain). Arrays and slots
/// are written once, under the lock of the plain chunks' array (private to the feed), and read without it. <see cref="_bytes"/> is the sum of the compressed forms held; each is also
/// reported to <see cref="_owner"/> (the log that bounds them), until <see cref="Detach"/>.
/// </para>
/// </summary>
internal sealed class CompressedChunks(ByteString[]?[] chunks)
{
    private ByteString?[]?[]? _forms;
    private long _bytes;
    private FeedLog? _owner;

    /// <summary>Gets the bytes of the compressed forms held.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>
    /// Gets the form of chunk <paramref name="index"/> of <paramref name="bucket"/> to send to a client that accepts
    /// compression (compressing it now if no client asked before), and whether it is compressed.
    /// </summary>
    public (ByteString Bytes, bool Compressed) Get(int bucket, int index, RelayServerMetrics metrics)
    {
        ByteString plain = chunks[bucket]![index];
        ByteString? form = Volatile.Read(ref _forms) is { } forms && Volatile.Read(ref forms[bucket]) is { } made ? Volatile.Read(ref made[index]) : null;
        if (form is null)
        {
            lock (chunks)
            {
                ByteString?[]?[] all = _forms ??= new ByteString?[]?[chunks.Length];
                ByteString?[] slots = all[bucket] ??= new ByteString?[chunks[bucket]!.Length];
                form = slots[index];
                if (form is null)
                {
                    ByteString? compressed = ChunkCompressor.Compress(plain);
                    metrics.ChunkCompressed(compressed is not null);
                    if (compressed is not null)
                    {
                        _bytes += compressed.Length;
                        _owner?.AddCompressed(compressed.Length);
                    }

                    form = compressed ?? plain;
                    Volatile.Write(ref slots[index], form);
                }
            }
        }

        return (form, !ReferenceEquals(form, plain));
    }

    /// <summary>Reports the compressed forms, from now on, to <paramref name="log"/> (which counts them in its bound).</summary>
    public void Attach(FeedLog log)
    {
        lock (chunks)
        {
            _owner = log;
            log.AddCompressed(_bytes);
        }
    }

    /// <summary>Stops reporting to the log (the entry left it); returns the bytes reported so far, for the log to take off.</summary>
    public long Detach()
    {
        lock (chunks)
        {
            _owner = null;
            return _bytes;
        }
    }
}
