using System.Text;

namespace WatcherSync;

/// <summary>
/// A codec for text values: the stored bytes are UTF-8 and decode to a <see cref="string"/>; a string encodes to its
/// UTF-8 bytes. Bytes that are not valid UTF-8 are a <see cref="ValueParseException"/> (reported like any value that
/// cannot be parsed), never a string with replacement characters that would read as a different value.
/// </summary>
public sealed class Utf8StringCodec : IValueCodec
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Gets the shared instance.</summary>
    public static Utf8StringCodec Instance { get; } = new();

    /// <inheritdoc />
    /// <returns>The value as a <see cref="string"/>.</returns>
    public object Decode(string key, ReadOnlyMemory<byte> data)
    {
        try
        {
            return Strict.GetString(data.Span);
        }
        catch (DecoderFallbackException ex)
        {
            throw new ValueParseException(key, JsonValueCodec.Preview(data), $"The stored value is not valid UTF-8: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException"><paramref name="value"/> is not a string, or holds a lone surrogate (no UTF-8 form).</exception>
    public byte[] Encode(object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value is not string text)
        {
            throw new ArgumentException($"The UTF-8 string codec encodes strings, not {value.GetType()}; pass a string, or configure another codec.", nameof(value));
        }

        try
        {
            return Strict.GetBytes(text);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException("The string holds a lone surrogate: it is not valid UTF-16 and has no UTF-8 form.", nameof(value), ex);
        }
    }
}
