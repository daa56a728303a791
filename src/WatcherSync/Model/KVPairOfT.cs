namespace WatcherSync;

/// <summary>
/// A pair whose value is typed: what <see cref="KVPair.As{T}"/> returns, for a consumer whose codec decodes values to
/// <typeparamref name="T"/> (<see cref="Utf8StringCodec"/> to strings, <see cref="JsonValueCodec.For{T}(System.Text.Json.Serialization.Metadata.JsonTypeInfo{T})"/> to a type
/// of its own, the in-memory store to what was written).
/// </summary>
/// <typeparam name="T">The type of the value.</typeparam>
/// <param name="Key">The key.</param>
/// <param name="Value">The value, or <see langword="default"/> for a deletion.</param>
/// <param name="Revision">The datastore revision (opaque to callers) at which the key was last modified.</param>
public sealed record KVPair<T>(IKey Key, T? Value, string? Revision = null)
{
    /// <summary>Gets whether the pair is a deletion (it carries no value).</summary>
    public bool IsDeleted { get; init; }
}
