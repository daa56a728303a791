using System.Text;

namespace WatcherSync;

/// <summary>
/// The default codec: values are the stored bytes (<see cref="T:byte[]"/>). Encodes <see cref="T:byte[]"/>,
/// <see cref="ReadOnlyMemory{T}"/> of bytes and <see cref="string"/> (as UTF-8).
/// </summary>
public sealed class RawBytesCodec : IValueCodec
{
    /// <summary>Gets the shared instance.</summary>
    public static RawBytesCodec Instance { get; } = new();

    /// <inheritdoc />
    public object Decode(string key, ReadOnlyMemory<byte> data) => data.ToArray();

    /// <inheritdoc />
    public byte[] Encode(object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value switch
        {
            byte[] bytes => bytes,
            ReadOnlyMemory<byte> memory => memory.ToArray(),
            Memory<byte> memory => memory.ToArray(),
            string text => Encoding.UTF8.GetBytes(text),
            _ => throw new ArgumentException($"The raw bytes codec cannot encode a value of type {value.GetType()}; pass bytes or a string, or configure another codec.", nameof(value)),
        };
    }
}
