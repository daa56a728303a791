namespace WatcherSync;

/// <summary>
/// The common reads and writes of <see cref="IBackendClient"/> by key path, for a caller that needs no key type of its
/// own (the key is a <see cref="PathKey"/>), and <c>TryGetAsync</c>, which answers null for an absent key instead of throwing.
/// </summary>
public static class BackendClientStringKeyExtensions
{
    /// <summary>Creates <paramref name="key"/> with <paramref name="value"/>; fails if the key exists.</summary>
    /// <returns>The stored pair with its revision.</returns>
    /// <exception cref="ResourceAlreadyExistsException">The key exists.</exception>
    public static Task<KVPair> CreateAsync(this IBackendClient client, string key, object value, CancellationToken cancellationToken = default) =>
        NotNull(client).CreateAsync(new KVPair(new PathKey(key), NotNull(value)), cancellationToken);

    /// <summary>Updates the existing <paramref name="key"/> to <paramref name="value"/>.</summary>
    /// <returns>The stored pair with its revision.</returns>
    /// <exception cref="ResourceNotFoundException">The key does not exist.</exception>
    public static Task<KVPair> UpdateAsync(this IBackendClient client, string key, object value, CancellationToken cancellationToken = default) =>
        NotNull(client).UpdateAsync(new KVPair(new PathKey(key), NotNull(value)), cancellationToken);

    /// <summary>Creates or updates <paramref name="key"/> with <paramref name="value"/>.</summary>
    /// <returns>The stored pair with its revision.</returns>
    public static Task<KVPair> ApplyAsync(this IBackendClient client, string key, object value, CancellationToken cancellationToken = default) =>
        NotNull(client).ApplyAsync(new KVPair(new PathKey(key), NotNull(value)), cancellationToken);

    /// <summary>Deletes <paramref name="key"/>.</summary>
    /// <returns>The pair as it was before the delete.</returns>
    /// <exception cref="ResourceNotFoundException">The key does not exist.</exception>
    public static Task<KVPair> DeleteAsync(this IBackendClient client, string key, CancellationToken cancellationToken = default) =>
        NotNull(client).DeleteAsync(new PathKey(key), revision: null, cancellationToken);

    /// <summary>Reads <paramref name="key"/>.</summary>
    /// <exception cref="ResourceNotFoundException">The key does not exist.</exception>
    public static Task<KVPair> GetAsync(this IBackendClient client, string key, CancellationToken cancellationToken = default) =>
        NotNull(client).GetAsync(new PathKey(key), revision: null, cancellationToken);

    /// <summary>Reads <paramref name="key"/>, or returns null when it does not exist.</summary>
    /// <returns>The pair, or null when the key is absent.</returns>
    public static Task<KVPair?> TryGetAsync(this IBackendClient client, string key, CancellationToken cancellationToken = default) =>
        TryGetAsync(client, new PathKey(key), cancellationToken);

    /// <summary>Reads <paramref name="key"/>, or returns null when it does not exist.</summary>
    /// <returns>The pair, or null when the key is absent.</returns>
    public static async Task<KVPair?> TryGetAsync(this IBackendClient client, IKey key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(key);
        try
        {
            return await client.GetAsync(key, revision: null, cancellationToken).ConfigureAwait(false);
        }
        catch (ResourceNotFoundException)
        {
            return null;
        }
    }

    private static T NotNull<T>(T value)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(value);
        return value;
    }
}
