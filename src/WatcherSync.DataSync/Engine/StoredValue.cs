using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

namespace WatcherSync.DataSync;

/// <summary>Decodes a value as the backend returned it (bytes, text, an already decoded object) into a requested type.</summary>
internal static class StoredValue
{
    public static T Decode<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>(IValueCodec codec, string key, object? value)
    {
        return value switch
        {
            null => throw new InvalidOperationException($"Key '{key}' has no value (it was deleted)."),
            T typed when value is not byte[] || typeof(T) == typeof(byte[]) => typed,
            byte[] bytes => codec.Decode<T>(key, bytes),
            string text => codec.Decode<T>(key, Encoding.UTF8.GetBytes(text)),
            JsonElement element => codec.Decode<T>(key, Encoding.UTF8.GetBytes(element.GetRawText())),
            InvalidValue invalid => throw invalid.Error,
            _ => throw new ValueParseException(key, value.ToString(), $"The stored value is a {value.GetType().Name}, not a {typeof(T).Name}."),
        };
    }
}

/// <summary>A key and its stored value, decoded on demand.</summary>
internal sealed class KeyValue(IValueCodec codec, KVPair pair) : IKeyValue
{
    public string Key => pair.Key.DefaultPath;

    public string Revision => pair.Revision ?? string.Empty;

    public T GetValue<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>() => StoredValue.Decode<T>(codec, Key, pair.Value);

    public override string ToString() => $"{Key}@{Revision}";
}

/// <summary>A change to a key with the previous pair the registration held, decoded on demand.</summary>
internal sealed class ChangeValue(IValueCodec codec, KVPair current, ChangeType changeType, KVPair? previous) : IChangeValue
{
    public string Key => current.Key.DefaultPath;

    public string Revision => current.Revision ?? string.Empty;

    public ChangeType ChangeType => changeType;

    public string? PrevRevision => previous?.Revision;

    public T GetValue<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>() => StoredValue.Decode<T>(codec, Key, current.Value);

    public bool TryGetPrevValue<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>(out T? value)
    {
        if (previous?.Value is null)
        {
            value = default;
            return false;
        }

        value = StoredValue.Decode<T>(codec, Key, previous.Value);
        return true;
    }

    public override string ToString() => $"{ChangeType} {Key}@{Revision}";
}
