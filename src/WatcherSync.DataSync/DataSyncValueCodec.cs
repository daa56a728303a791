using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Google.Protobuf;

namespace WatcherSync.DataSync;

/// <summary>
/// The DataSync default codec: byte arrays are stored as they are, protobuf messages (Google.Protobuf) in their
/// binary form, everything else as JSON. Decoding to a type follows the same rules.
/// </summary>
/// <remarks>
/// Byte arrays and protobuf messages need no reflection. JSON types are resolved through the JSON options: options
/// without a resolver (the default: the Web defaults) use reflection where the application allows it; in a trimmed or
/// native AOT application, where it does not, no JSON type resolves (a decode is a <see cref="ValueParseException"/>, an
/// encode a <see cref="NotSupportedException"/>), so pass the options of a source-generated <c>JsonSerializerContext</c>
/// there (<c>new DataSyncValueCodec(MyJsonContext.Default.Options)</c>).
/// </remarks>
public sealed class DataSyncValueCodec : IValueCodec
{
    private readonly JsonValueCodec _json;

    /// <summary>
    /// Creates the codec; <paramref name="jsonOptions"/> default to the Web defaults (<see cref="JsonSerializerDefaults.Web"/>)
    /// with reflection-based contracts where the application allows them.
    /// </summary>
    public DataSyncValueCodec(JsonSerializerOptions? jsonOptions = null)
        => _json = JsonValueCodec.FromOptions(jsonOptions ?? new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <inheritdoc />
    public object Decode(string key, ReadOnlyMemory<byte> data) => data.ToArray();

    /// <inheritdoc />
    public T Decode<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>(string key, ReadOnlyMemory<byte> data)
    {
        if (typeof(T) == typeof(byte[]))
        {
            return (T)(object)data.ToArray();
        }

        if (typeof(IMessage).IsAssignableFrom(typeof(T)))
        {
            try
            {
                var message = (IMessage)Activator.CreateInstance(typeof(T))!;
                message.MergeFrom(data.Span);
                return (T)message;
            }
            catch (InvalidProtocolBufferException ex)
            {
                throw new ValueParseException(key, JsonValueCodec.Preview(data), $"The stored value is not a valid {typeof(T).Name} message: {ex.Message}", ex);
            }
        }

        return _json.Decode<T>(key, data);
    }

    /// <inheritdoc />
    public byte[] Encode(object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value switch
        {
            byte[] bytes => bytes,
            IMessage message => message.ToByteArray(),
            _ => _json.Encode(value),
        };
    }
}
