using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace WatcherSync;

/// <summary>
/// A System.Text.Json codec: values are decoded as <see cref="ValueType"/> (a <see cref="JsonElement"/> when
/// no type is given). A value that is not valid JSON for that type is a <see cref="ValueParseException"/>.
/// </summary>
public sealed class JsonValueCodec : IValueCodec
{
    private readonly JsonSerializerOptions _options;

    /// <summary>Creates a codec that decodes every value as <paramref name="valueType"/>.</summary>
    /// <param name="valueType">The type values decode to; <see langword="null"/> for <see cref="JsonElement"/>.</param>
    /// <param name="options">Serializer options; <see cref="JsonSerializerOptions.Web"/> when null.</param>
    public JsonValueCodec(Type? valueType = null, JsonSerializerOptions? options = null)
    {
        ValueType = valueType ?? typeof(JsonElement);
        _options = options ?? JsonSerializerOptions.Web;
    }

    /// <summary>Gets the type values decode to.</summary>
    public Type ValueType { get; }

    /// <summary>Creates a codec decoding every value as <typeparamref name="T"/>.</summary>
    public static JsonValueCodec For<T>(JsonSerializerOptions? options = null) => new(typeof(T), options);

    /// <inheritdoc />
    public object Decode(string key, ReadOnlyMemory<byte> data)
    {
        try
        {
            return JsonSerializer.Deserialize(data.Span, ValueType, _options)
                ?? throw new ValueParseException(key, Preview(data), "The stored value is JSON null.");
        }
        catch (JsonException ex)
        {
            throw new ValueParseException(key, Preview(data), $"The stored value is not valid JSON for {ValueType.Name}: {ex.Message}", ex);
        }
        catch (NotSupportedException ex)
        {
            throw new ValueParseException(key, Preview(data), $"The stored value cannot be decoded as {ValueType.Name}: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public T Decode<T>(string key, ReadOnlyMemory<byte> data)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(data.Span, _options)
                ?? throw new ValueParseException(key, Preview(data), "The stored value is JSON null.");
        }
        catch (JsonException ex)
        {
            throw new ValueParseException(key, Preview(data), $"The stored value is not valid JSON for {typeof(T).Name}: {ex.Message}", ex);
        }
        catch (NotSupportedException ex)
        {
            throw new ValueParseException(key, Preview(data), $"The stored value cannot be decoded as {typeof(T).Name}: {ex.Message}", ex);
        }
    }

    /// <inheritdoc />
    public byte[] Encode(object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value switch
        {
            byte[] bytes => bytes,
            JsonElement element => JsonSerializer.SerializeToUtf8Bytes(element, _options),
            _ => JsonSerializer.SerializeToUtf8Bytes(value, _options.GetTypeInfo(value.GetType())),
        };
    }

    /// <summary>Returns the start of a raw value as text for diagnostics, without ever throwing.</summary>
    internal static string Preview(ReadOnlyMemory<byte> data)
    {
        const int MaxPreview = 1024;
        ReadOnlySpan<byte> span = data.Span.Length > MaxPreview ? data.Span[..MaxPreview] : data.Span;
        return Encoding.UTF8.GetString(span);
    }
}
