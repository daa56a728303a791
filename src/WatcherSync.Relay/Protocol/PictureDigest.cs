using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Google.Protobuf;

namespace WatcherSync.Relay.Protocol;

/// <summary>
/// The digest of a picture, the same on both ends of the wire: the sum (mod 2^128) of a 128-bit hash of each key with
/// its revision and value bytes. A sum, so that it follows a picture change by change (subtract the old entry, add the
/// new) and does not depend on order. Two pictures with the same digest and key count are taken to be the same: a
/// relay continues a client from the point of its log where its picture has the client's digest.
/// </summary>
internal static class PictureDigest
{
    /// <summary>The hash of one key-value as the relay sends it (key, revision, encoded value bytes).</summary>
    public static UInt128 Of(string key, string revision, ReadOnlySpan<byte> value)
    {
        int length = Encoding.UTF8.GetMaxByteCount(key.Length + revision.Length) + 1;
        byte[]? rented = length > 512 ? ArrayPool<byte>.Shared.Rent(length) : null;
        Span<byte> buffer = rented ?? stackalloc byte[512];
        try
        {
            int written = Encoding.UTF8.GetBytes(key, buffer);
            buffer[written++] = 0;
            written += Encoding.UTF8.GetBytes(revision, buffer[written..]);
            return OfName(buffer[..written], value);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// The same hash from the key's and the revision's UTF-8 bytes as they came off the wire (equal to
    /// <see cref="Of(string, string, ReadOnlySpan{byte})"/> of their strings when the bytes are valid UTF-8, as a relay sends them).
    /// </summary>
    public static UInt128 Of(ReadOnlySpan<byte> key, ReadOnlySpan<byte> revision, ReadOnlySpan<byte> value)
    {
        int length = key.Length + 1 + revision.Length;
        byte[]? rented = length > 512 ? ArrayPool<byte>.Shared.Rent(length) : null;
        Span<byte> buffer = rented ?? stackalloc byte[512];
        try
        {
            key.CopyTo(buffer);
            buffer[key.Length] = 0;
            revision.CopyTo(buffer[(key.Length + 1)..]);
            return OfName(buffer[..length], value);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The hash of a value under its name (the key's bytes, a zero byte, the revision's bytes).</summary>
    private static UInt128 OfName(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
        XxHash128.HashToUInt128(value, unchecked((long)XxHash3.HashToUInt64(name)));

    public static ByteString ToBytes(UInt128 digest)
    {
        byte[] bytes = new byte[16];
        BinaryPrimitives.WriteUInt128LittleEndian(bytes, digest);
        return UnsafeByteOperations.UnsafeWrap(bytes);
    }

    /// <summary>Reads a digest off the wire; null when it is not 16 bytes.</summary>
    public static UInt128? FromBytes(ByteString bytes) =>
        bytes.Length == 16 ? BinaryPrimitives.ReadUInt128LittleEndian(bytes.Span) : null;
}
