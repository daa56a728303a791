namespace WatcherSync;

/// <summary>
/// A key with its value and the revision at which it was last modified. A <see langword="null"/>
/// <see cref="Value"/> means the key is deleted. Pairs handed out by WatcherSync are never mutated.
/// </summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The value, or <see langword="null"/> for a deletion.</param>
/// <param name="Revision">The datastore revision (opaque to callers) at which the key was last modified.</param>
public sealed record KVPair(IKey Key, object? Value, string? Revision = null)
{
    /// <summary>Gets the key.</summary>
    public IKey Key { get; init; } = Key ?? throw new ArgumentNullException(nameof(Key));

    /// <summary>
    /// Gets the time to live requested for a write (the pair a write returns carries it too). Reads and watch events
    /// do not report a key's lifetime, on any backend: there it is null.
    /// </summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary>Gets an optional unique identifier of the stored object.</summary>
    public string? Uid { get; init; }

    /// <summary>
    /// Returns the pair with its value typed as <typeparamref name="T"/>, so a consumer reads values without casting
    /// (a deletion has the default value and <see cref="KVPair{T}.IsDeleted"/> set).
    /// </summary>
    /// <typeparam name="T">The type the codec decodes values to.</typeparam>
    /// <returns>The typed pair.</returns>
    /// <exception cref="InvalidCastException">The value is not a <typeparamref name="T"/> (the codec decodes to another type).</exception>
    public KVPair<T> As<T>() => Value switch
    {
        null => new KVPair<T>(Key, default, Revision) { IsDeleted = true },
        T typed => new KVPair<T>(Key, typed, Revision),
        _ => throw new InvalidCastException(
            $"The value of {Key.DefaultPath} is a {Value.GetType().Name}, not a {typeof(T).Name}: configure the codec that decodes to {typeof(T).Name} (Utf8StringCodec for strings, JsonValueCodec.For<{typeof(T).Name}>() for JSON)."),
    };
}
