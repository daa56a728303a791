using System.Buffers;
using System.IO.Compression;
using Google.Protobuf;
using WatcherSync.Relay.Protocol;

namespace WatcherSync.Relay.Server;

/// <summary>
/// Compresses one encoded chunk for the clients that accept it: Brotli at quality 4 (window 2^22). The relay compresses
/// a chunk once, however many clients it sends it to, so its cost is paid per chunk, not per client; what each client
/// pays is decoding, about the same for Brotli as for gzip, while Brotli's output is 15-20% smaller (docs/relay.md,
/// "Compression", has the figures). A chunk whose compressed form does not save at least an eighth is sent plain.
/// </summary>
internal static class ChunkCompressor
{
    public const string Encoding = RelayProtocol.Brotli;

    private const int Quality = 4;
    private const int Window = 22;

    /// <summary>Compresses <paramref name="plain"/>; null when that does not pay (its compressed form saves less than an eighth).</summary>
    public static ByteString? Compress(ByteString plain)
    {
        if (plain.Length < 64)
        {
            return null;
        }

        byte[] buffer = ArrayPool<byte>.Shared.Rent(BrotliEncoder.GetMaxCompressedLength(plain.Length));
        try
        {
            if (!BrotliEncoder.TryCompress(plain.Span, buffer, out int written, Quality, Window) || written > plain.Length - (plain.Length / 8))
            {
                return null;
            }

            return ByteString.CopyFrom(buffer, 0, written);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
