using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using WatcherSync.Etcd.Diagnostics;

namespace WatcherSync.Etcd.Keys;

/// <summary>Turns etcd key-values into <see cref="KVPair"/>s: the namespace removed, keys parsed by the list options, values decoded.</summary>
internal sealed class EtcdConverter
{
    private readonly IValueCodec _codec;
    private readonly ILogger _logger;

    public EtcdConverter(EtcdKeys keys, IValueCodec codec, ILogger logger)
    {
        Keys = keys;
        _codec = codec;
        _logger = logger;
    }

    public EtcdKeys Keys { get; }

    /// <summary>Decodes a stored value read from a reply (never from a caller's buffer).</summary>
    /// <exception cref="ValueParseException">The codec cannot decode it.</exception>
    public object Decode(string path, ReadOnlyMemory<byte> data)
    {
        // A value parsed from a reply owns its array, and the reply is dropped: the raw-bytes codec can hand that
        // array out instead of copying it (about 30 % of the bytes a list allocates per key).
        if (_codec is RawBytesCodec && MemoryMarshal.TryGetArray(data, out ArraySegment<byte> whole) && whole.Offset == 0 && whole.Count == whole.Array!.Length)
        {
            return whole.Array;
        }

        try
        {
            return _codec.Decode(path, data);
        }
        catch (ValueParseException)
        {
            throw;
        }
#pragma warning disable CA1031 // The codec is user code: whatever it throws is a value it cannot parse.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            throw new ValueParseException(path, JsonValueCodec.Preview(data), $"The value of '{path}' cannot be decoded: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Decodes a value met in a list or watch, where one bad value must not stop the others: an
    /// <see cref="InvalidValue"/> (logged) when the codec cannot decode it.
    /// </summary>
    public object DecodeOrInvalid(string path, ReadOnlyMemory<byte> value)
    {
        if (EtcdKeys.HasEscapedBytes(path))
        {
            // A key that is not UTF-8 is no key a consumer can hold: report it like a value that does not decode.
            var error = new ValueParseException(path, JsonValueCodec.Preview(value), $"The key '{path}' is not valid UTF-8.");
            Log.ValueNotDecoded(_logger, path, error.Message);
            return new InvalidValue(error);
        }

        try
        {
            return Decode(path, value);
        }
        catch (ValueParseException ex)
        {
            Log.ValueNotDecoded(_logger, path, ex.Message);
            return new InvalidValue(ex);
        }
    }

    /// <summary>Parses <paramref name="path"/> with the list options; null when they do not cover it (or throw).</summary>
    public static IKey? KeyFor(IListOptions list, string path)
    {
        if (list is PrefixListOptions prefix)
        {
            return path.Length > 0 && path.StartsWith(prefix.Prefix, StringComparison.Ordinal) ? new PathKey(path) : null;
        }

        return InMemory.InMemoryBackend.KeyFor(list, path);
    }
}
