using Google.Protobuf;

namespace WatcherSync.Relay.Server;

/// <summary>
/// The compressed forms of one snapshot's or log entry's chunks, kept beside the plain ones: each chunk is compressed
/// at most once, on the first demand of a client that accepts compression, and shared by every such client after.
/// <para>
/// State: <see cref="_forms"/> is null until a client first asks (so an entry no such client reads costs nothing more
/// than this object, about 48 B); then <see cref="_forms"/>[bucket][index] is null until the chunk was compressed, then
/// either its compressed bytes or the plain chunk itself (compression did not pay: it is sent plain). Arrays and slots
/// are written once, under the lock of the plain chunks' array (private to the feed; held during a compression, so that
/// two clients never compress the same chunk), and read without it. <see cref="_bytes"/> is the sum of the compressed
/// forms held, and <see cref="_owner"/> the log that bounds them (null before <see cref="Attach"/> and after
/// <see cref="Detach"/>): every form counted in <see cref="_bytes"/> while <see cref="_owner"/> is set was reported to
/// it. Those two change together under <see cref="_accounting"/>, which is never held during a compression: the log
/// detaches an entry it drops under the feed's lock, and must not wait there for a client's compression.
/// </para>
/// </summary>
internal sealed class CompressedChunks(ByteString[]?[] chunks, Func<ByteString, ByteString?>? compress = null)
{
    private readonly Func<ByteString, ByteString?> _compress = compress ?? ChunkCompressor.Compress;
    private readonly Lock _accounting = new();
    private ByteString?[]?[]? _forms;
    private long _bytes;
    private FeedLog? _owner;

    /// <summary>Gets the bytes of the compressed forms held.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>
    /// Gets the form of chunk <paramref name="index"/> of <paramref name="bucket"/> to send to a client that accepts
    /// compression (compressing it now if no client asked before), and whether it is compressed. A form made now counts
    /// at once in the bound of the log that holds the entry, which drops its oldest entries if that takes it over.
    /// </summary>
    public (ByteString Bytes, bool Compressed) Get(int bucket, int index, RelayServerMetrics metrics)
    {
        ByteString plain = chunks[bucket]![index];
        ByteString? form = Volatile.Read(ref _forms) is { } forms && Volatile.Read(ref forms[bucket]) is { } made ? Volatile.Read(ref made[index]) : null;
        if (form is null)
        {
            long madeBytes = 0;
            lock (chunks)
            {
                ByteString?[]?[] all = _forms ??= new ByteString?[]?[chunks.Length];
                ByteString?[] slots = all[bucket] ??= new ByteString?[chunks[bucket]!.Length];
                form = slots[index];
                if (form is null)
                {
                    ByteString? compressed = _compress(plain);
                    metrics.ChunkCompressed(compressed is not null);
                    madeBytes = compressed?.Length ?? 0;
                    form = compressed ?? plain;
                    Volatile.Write(ref slots[index], form);
                }
            }

            if (madeBytes > 0)
            {
                Count(madeBytes);
            }
        }

        return (form, !ReferenceEquals(form, plain));
    }

    /// <summary>Reports the compressed forms, from now on, to <paramref name="log"/> (which counts them in its bound).</summary>
    public void Attach(FeedLog log)
    {
        lock (_accounting)
        {
            _owner = log;
            log.AddCompressed(_bytes);
        }
    }

    /// <summary>Stops reporting to the log (the entry left it); returns the bytes reported so far, for the log to take off.</summary>
    public long Detach()
    {
        lock (_accounting)
        {
            _owner = null;
            return _bytes;
        }
    }

    private void Count(long bytes)
    {
        FeedLog? owner;
        lock (_accounting)
        {
            _bytes += bytes;
            owner = _owner;
            owner?.AddCompressed(bytes);
        }

        // Outside the accounting lock: trimming takes the feed's lock, under which the log detaches entries.
        owner?.TrimToBound();
    }
}
