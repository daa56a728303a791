using System.Diagnostics.CodeAnalysis;

namespace WatcherSync;

/// <summary>
/// Turns the bytes stored by byte-oriented backends (etcd) into values and back.
/// </summary>
public interface IValueCodec
{
    /// <summary>Decodes the bytes stored at <paramref name="key"/>.</summary>
    /// <exception cref="ValueParseException">The bytes are not a valid value for this codec.</exception>
    object Decode(string key, ReadOnlyMemory<byte> data);

    /// <summary>
    /// Decodes the bytes stored at <paramref name="key"/> as a <typeparamref name="T"/>. The default casts the result of
    /// <see cref="Decode(string, ReadOnlyMemory{byte})"/>; codecs that can target a type override it.
    /// </summary>
    /// <typeparam name="T">The type to decode to; its public parameterless constructor is kept by trimming, since a codec
    /// may create the value (a protobuf message, for example).</typeparam>
    /// <exception cref="ValueParseException">The bytes are not a valid <typeparamref name="T"/> for this codec.</exception>
    T Decode<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>(string key, ReadOnlyMemory<byte> data)
    {
        object value = Decode(key, data);
        return value is T typed
            ? typed
            : throw new ValueParseException(key, null, $"The value decodes to {value.GetType().Name}, not {typeof(T).Name}.");
    }

    /// <summary>Encodes <paramref name="value"/> for storage.</summary>
    /// <exception cref="ArgumentException">The value cannot be encoded by this codec.</exception>
    byte[] Encode(object value);
}
