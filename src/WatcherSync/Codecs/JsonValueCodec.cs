using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace WatcherSync;

/// <summary>
/// A System.Text.Json codec: values are decoded as <see cref="ValueType"/> (a <see cref="JsonElement"/> when
/// no type is given). A value that is not valid JSON for that type is a <see cref="ValueParseException"/>.
/// </summary>
/// <remarks>
/// For trimmed and native AOT applications, create it from a <see cref="JsonTypeInfo"/> of a source-generated
/// <c>JsonSerializerContext</c> (<see cref="JsonValueCodec(JsonTypeInfo)"/>, <see cref="For{T}(JsonTypeInfo{T})"/>):
/// every type it decodes or encodes is then resolved through that context's options, with no reflection. The
/// constructor taking a <see cref="Type"/> serializes with reflection when its options carry no source-generated
/// resolver, so it is marked as needing unreferenced and dynamic code.
/// </remarks>
public sealed class JsonValueCodec : IValueCodec
{
    private const string ReflectionMessage =
        "Decodes and encodes values with reflection-based System.Text.Json serialization, which trimming and native AOT do not support. "
        + "Use JsonValueCodec(JsonTypeInfo) or JsonValueCodec.For(JsonTypeInfo<T>) with a source-generated JsonSerializerContext instead.";

    // Every type is resolved through these options (GetTypeInfo caches each contract), so a codec built from a
    // source-generated context never falls back to reflection.
    private readonly JsonSerializerOptions _options;

    /// <summary>Creates a codec that decodes every value as <paramref name="valueType"/>, with reflection-based serialization.</summary>
    /// <param name="valueType">The type values decode to; <see langword="null"/> for <see cref="JsonElement"/>.</param>
    /// <param name="options">Serializer options; <see cref="JsonSerializerOptions.Web"/> when null.</param>
    [RequiresUnreferencedCode(ReflectionMessage)]
    [RequiresDynamicCode(ReflectionMessage)]
    public JsonValueCodec(Type? valueType = null, JsonSerializerOptions? options = null)
        : this(WithReflectionWhereEnabled(options ?? JsonSerializerOptions.Web), valueType ?? typeof(JsonElement))
    {
    }

    /// <summary>
    /// Creates a codec that decodes every value as <paramref name="typeInfo"/>'s type and resolves every other type it is
    /// asked for through <paramref name="typeInfo"/>'s options (for example <c>MyJsonContext.Default.Pod</c>). Safe for
    /// trimming and native AOT when the type info comes from a source-generated context.
    /// </summary>
    /// <param name="typeInfo">The contract of the type values decode to.</param>
    public JsonValueCodec(JsonTypeInfo typeInfo)
        : this(CheckNotNull(typeInfo).Options, typeInfo.Type)
    {
    }

    private JsonValueCodec(JsonSerializerOptions options, Type valueType)
    {
        _options = options;
        ValueType = valueType;
    }

    /// <summary>Gets the type values decode to.</summary>
    public Type ValueType { get; }

    /// <summary>Creates a codec decoding every value as <typeparamref name="T"/>, with reflection-based serialization.</summary>
    /// <param name="options">Serializer options; <see cref="JsonSerializerOptions.Web"/> when null.</param>
    [RequiresUnreferencedCode(ReflectionMessage)]
    [RequiresDynamicCode(ReflectionMessage)]
    public static JsonValueCodec For<T>(JsonSerializerOptions? options = null) => new(typeof(T), options);

    /// <summary>Creates a codec decoding every value as <typeparamref name="T"/> through a (source-generated) contract; safe for trimming and native AOT.</summary>
    /// <param name="typeInfo">The contract of <typeparamref name="T"/>, for example <c>MyJsonContext.Default.Pod</c>.</param>
    public static JsonValueCodec For<T>(JsonTypeInfo<T> typeInfo) => new(typeInfo);

    /// <inheritdoc />
    public object Decode(string key, ReadOnlyMemory<byte> data)
    {
        try
        {
            return JsonSerializer.Deserialize(data.Span, _options.GetTypeInfo(ValueType))
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
    public T Decode<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>(string key, ReadOnlyMemory<byte> data)
    {
        try
        {
            var typeInfo = (JsonTypeInfo<T>)_options.GetTypeInfo(typeof(T));
            return JsonSerializer.Deserialize(data.Span, typeInfo)
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
        return value is byte[] bytes ? bytes : JsonSerializer.SerializeToUtf8Bytes(value, _options.GetTypeInfo(value.GetType()));
    }

    /// <summary>Returns the start of a raw value as text for diagnostics, without ever throwing.</summary>
    internal static string Preview(ReadOnlyMemory<byte> data)
    {
        const int MaxPreview = 1024;
        ReadOnlySpan<byte> span = data.Span.Length > MaxPreview ? data.Span[..MaxPreview] : data.Span;
        return Encoding.UTF8.GetString(span);
    }

    /// <summary>
    /// Creates a codec that resolves every type through <paramref name="options"/> (see
    /// <see cref="WithReflectionWhereEnabled"/>), decoding untyped values as <see cref="JsonElement"/>.
    /// </summary>
    internal static JsonValueCodec FromOptions(JsonSerializerOptions options) => new(WithReflectionWhereEnabled(options), typeof(JsonElement));

    /// <summary>
    /// Returns <paramref name="options"/>, or when they have no <see cref="JsonSerializerOptions.TypeInfoResolver"/> a copy
    /// whose contracts come from reflection where the application allows reflection-based serialization, as the
    /// <see cref="JsonSerializer"/> overloads without a <see cref="JsonTypeInfo"/> do. Elsewhere (trimmed and native AOT
    /// applications, where <see cref="JsonSerializer.IsReflectionEnabledByDefault"/> is off) no type resolves: the first
    /// decode or encode of one throws <see cref="NotSupportedException"/> asking for source-generated contracts.
    /// </summary>
    internal static JsonSerializerOptions WithReflectionWhereEnabled(JsonSerializerOptions options) =>
        options.TypeInfoResolver is not null
            ? options
            : new JsonSerializerOptions(options)
            {
                TypeInfoResolver = JsonSerializer.IsReflectionEnabledByDefault ? ReflectionResolver() : JsonTypeInfoResolver.Combine(),
            };

    // The one place that creates reflection-based contracts without being marked: it is reached only behind the
    // JsonSerializer.IsReflectionEnabledByDefault feature switch, which trimmed and AOT publishes set to false and
    // the trimmer then folds, removing this call (System.Text.Json's own overloads rely on the same switch).
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Reached only when JsonSerializer.IsReflectionEnabledByDefault is true, which trimming turns off.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Reached only when JsonSerializer.IsReflectionEnabledByDefault is true, which native AOT turns off.")]
    private static DefaultJsonTypeInfoResolver ReflectionResolver() => new();

    private static JsonTypeInfo CheckNotNull(JsonTypeInfo typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        return typeInfo;
    }
}
