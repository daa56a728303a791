using System.Text;

namespace WatcherSync.Etcd.Gateway;

/// <summary>Turns paths into etcd keys and ranges under the client's namespace, and back.</summary>
internal sealed class EtcdKeys
{
    private readonly byte[] _namespace;

    public EtcdKeys(string keyPrefix)
    {
        Namespace = keyPrefix;
        _namespace = Encoding.UTF8.GetBytes(keyPrefix);
    }

    public string Namespace { get; }

    public byte[] Encode(string path)
    {
        int count = Encoding.UTF8.GetByteCount(path);
        byte[] key = new byte[_namespace.Length + count];
        _namespace.CopyTo(key, 0);
        Encoding.UTF8.GetBytes(path, key.AsSpan(_namespace.Length));
        return key;
    }

    /// <summary>Returns the path of a key read back (the namespace removed).</summary>
    public string Decode(byte[]? key)
    {
        if (key is null)
        {
            return string.Empty;
        }

        int skip = key.AsSpan().StartsWith(_namespace) ? _namespace.Length : 0;
        return Encoding.UTF8.GetString(key, skip, key.Length - skip);
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
