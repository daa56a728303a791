namespace WatcherSync;

/// <summary>
/// Turns the bytes stored by byte-oriented backends (etcd) into values and back.
/// </summary>
public interface IValueCodec
{
    /// <summary>Decodes the bytes stored at <paramref name="key"/>.</summary>
    /// <exception cref="ValueParseException">The bytes are not a valid value for this codec.</exception>
    object Decode(string key, ReadOnlyMemory<byte> data);

    /// <summary>Encodes <paramref name="value"/> for storage.</summary>
    /// <exception cref="ArgumentException">The value cannot be encoded by this codec.</exception>
    byte[] Encode(object value);
}
