using System.Buffers;
using System.IO.Compression;
using Google.Protobuf;
using WatcherSync.Relay.Protocol;

namespace WatcherSync.Relay;

/// <summary>
/// Turns the batches a relay sends back into plain encoded <c>KeyValueBatch</c> bytes: a plain batch as it is, a
/// compressed one decompressed with a bound, so that a hostile or broken relay cannot make the client hold more than
/// one message's worth (<see cref="RelayChannels.MaxMessageBytes"/>) for any batch. A batch in an encoding the client
/// does not know, corrupt, or larger than the bound is a protocol error: the connection ends and another relay is tried.
/// </summary>
internal static class BatchDecoder
{
    /// <summary>The encodings a client that wants compression accepts, in its order of preference.</summary>
    public static readonly string[] Accepted = [RelayProtocol.Brotli];

    /// <summary>The size of the pooled buffer a batch is first decompressed into.</summary>
    private const int InitialBuffer = 64 * 1024;

    /// <summary>Gets the snapshot chunk's entries, decompressed if need be.</summary>
    public static ByteString Entries(SnapshotChunk chunk, int maxBytes) => Decode(chunk.Entries, chunk.Encoding, maxBytes);

    /// <summary>Gets batch <paramref name="index"/> of <paramref name="deltas"/>, decompressed if need be.</summary>
    public static ByteString Batch(Deltas deltas, int index, int maxBytes)
    {
        if (deltas.Encodings.Count == 0)
        {
            return deltas.Batches[index];
        }

        return deltas.Encodings.Count != deltas.Batches.Count
            ? throw new RelayProtocolException($"The relay sent {deltas.Batches.Count} batches with {deltas.Encodings.Count} encodings.")
            : Decode(deltas.Batches[index], deltas.Encodings[index], maxBytes);
    }

    /// <summary>Decodes <paramref name="bytes"/> sent in <paramref name="encoding"/> ("" for plain), refusing more than <paramref name="maxBytes"/> once decompressed.</summary>
    public static ByteString Decode(ByteString bytes, string encoding, int maxBytes)
    {
        if (encoding.Length == 0)
        {
            return bytes;
        }

        if (encoding != RelayProtocol.Brotli)
        {
            throw new RelayProtocolException($"The relay sent a batch in encoding '{encoding}', which this client does not know.");
        }

        using var decoder = new BrotliDecoder();
        ReadOnlySpan<byte> source = bytes.Span;
        // Room for a whole snapshot chunk or delta batch of the relay's (16 and 64 KiB) at once, pooled: growing from a
        // guess made three copies and three rents per chunk of well-compressed values. Still below the large object heap.
        byte[] buffer = ArrayPool<byte>.Shared.Rent(Math.Min(maxBytes, Math.Max(InitialBuffer, bytes.Length * 8)));
        int length = 0;
        try
        {
            while (true)
            {
                OperationStatus status = decoder.Decompress(source, buffer.AsSpan(length, Math.Min(buffer.Length, maxBytes) - length), out int consumed, out int written);
                source = source[consumed..];
                length += written;
                switch (status)
                {
                    case OperationStatus.Done when source.IsEmpty:
                        return ByteString.CopyFrom(buffer, 0, length);
                    case OperationStatus.DestinationTooSmall when length < maxBytes:
                        byte[] bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(maxBytes, buffer.Length * 2L));
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                        break;
                    case OperationStatus.DestinationTooSmall:
                        throw new RelayProtocolException($"The relay sent a compressed batch of {bytes.Length} bytes that decompresses to more than {maxBytes} bytes (the largest message this client accepts); refused.");
                    default:
                        throw new RelayProtocolException($"The relay sent a compressed batch of {bytes.Length} bytes that is not valid {encoding} ({status}).");
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
