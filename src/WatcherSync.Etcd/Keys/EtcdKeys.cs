using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace WatcherSync.Etcd.Keys;

/// <summary>
/// Turns paths into etcd keys and ranges under the client's namespace, and back. etcd keys are bytes; a key that is
/// not UTF-8 gets each invalid byte escaped as a lone surrogate (U+DC80–U+DCFF, as Python's surrogateescape), which no
/// valid key can contain: distinct keys never collide, such a key can be reported, and encoding the path gives the
/// original bytes back (so it can be deleted).
/// </summary>
internal sealed class EtcdKeys
{
    private const char EscapeBase = '\uDC00';
    private readonly byte[] _namespace;

    public EtcdKeys(string keyPrefix)
    {
        Namespace = keyPrefix;
        _namespace = Encoding.UTF8.GetBytes(keyPrefix);
    }

    public string Namespace { get; }

    /// <summary>Returns the etcd key of <paramref name="path"/> (a prefix's first key, for a prefix).</summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> holds a lone surrogate that is not an escaped byte.</exception>
    public byte[] Encode(string path)
    {
        ThrowIfNotEncodable(path);
        if (HasEscapedBytes(path))
        {
            return EncodeEscaped(path);
        }

        int count = Encoding.UTF8.GetByteCount(path);
        byte[] key = new byte[_namespace.Length + count];
        _namespace.CopyTo(key, 0);
        Encoding.UTF8.GetBytes(path, key.AsSpan(_namespace.Length));
        return key;
    }

    /// <summary>Returns the path of a key read back (the namespace removed).</summary>
    public string Decode(ReadOnlySpan<byte> key)
    {
        int skip = key.StartsWith(_namespace) ? _namespace.Length : 0;
        ReadOnlySpan<byte> bytes = key[skip..];
        return Utf8.IsValid(bytes) ? Encoding.UTF8.GetString(bytes) : DecodeEscaped(bytes);
    }

    /// <summary>
    /// Refuses a path with a lone surrogate other than an escaped byte: it has no UTF-8 form (it would be sent as
    /// U+FFFD, another key), as <see cref="KeyText"/> refuses for every backend.
    /// </summary>
    private static void ThrowIfNotEncodable(string path)
    {
        for (int i = KeyText.IndexOfLoneSurrogate(path); i >= 0; i = KeyText.IndexOfLoneSurrogate(path, i + 1))
        {
            if (!IsEscapedByte(path[i]))
            {
                throw KeyText.NotValidUtf16(path, i, nameof(path));
            }
        }
    }

    private static bool IsEscapedByte(char c) => c is >= (char)(EscapeBase + 0x80) and <= (char)(EscapeBase + 0xff);

    /// <summary>Whether <paramref name="path"/> came from a key that is not UTF-8 (it holds escaped bytes).</summary>
    public static bool HasEscapedBytes(string path)
    {
        for (int i = 0; i < path.Length; i++)
        {
            if (char.IsHighSurrogate(path[i]) && i + 1 < path.Length && char.IsLowSurrogate(path[i + 1]))
            {
                i++;
            }
            else if (path[i] is >= (char)(EscapeBase + 0x80) and <= (char)(EscapeBase + 0xff))
            {
                return true;
            }
        }

        return false;
    }

    private static string DecodeEscaped(ReadOnlySpan<byte> bytes)
    {
        var builder = new StringBuilder(bytes.Length);
        while (!bytes.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(bytes, out Rune rune, out int consumed) == OperationStatus.Done)
            {
                builder.Append(rune.ToString());
            }
            else
            {
                foreach (byte b in bytes[..consumed])
                {
                    builder.Append((char)(EscapeBase + b));
                }
            }

            bytes = bytes[consumed..];
        }

        return builder.ToString();
    }

    private byte[] EncodeEscaped(string path)
    {
        var bytes = new List<byte>(_namespace.Length + path.Length + 8);
        bytes.AddRange(_namespace);
        int start = 0;
        for (int i = 0; i <= path.Length; i++)
        {
            bool pair = i + 1 < path.Length && char.IsHighSurrogate(path[i]) && char.IsLowSurrogate(path[i + 1]);
            if (i < path.Length && (pair || path[i] is < (char)(EscapeBase + 0x80) or > (char)(EscapeBase + 0xff)))
            {
                i += pair ? 1 : 0;
                continue;
            }

            bytes.AddRange(Encoding.UTF8.GetBytes(path[start..i]));
            if (i < path.Length)
            {
                bytes.Add((byte)(path[i] - EscapeBase));
            }

            start = i + 1;
        }

        return [.. bytes];
    }

    /// <summary>Gives the [key, range_end) range of every key starting with <paramref name="prefix"/>.</summary>
    public (byte[] Key, byte[] RangeEnd) PrefixRange(string prefix)
    {
        byte[] start = Encode(prefix);
        if (start.Length == 0)
        {
            // Everything: etcd reads key "\0" with range_end "\0" as "every key".
            return ([0], [0]);
        }

        return (start, PrefixEnd(start));
    }

    /// <summary>The smallest key greater than every key starting with <paramref name="prefix"/> ("\0" when there is none).</summary>
    public static byte[] PrefixEnd(byte[] prefix)
    {
        for (int i = prefix.Length - 1; i >= 0; i--)
        {
            if (prefix[i] < 0xff)
            {
                byte[] end = prefix.AsSpan(0, i + 1).ToArray();
                end[i]++;
                return end;
            }
        }

        return [0];
    }
}
