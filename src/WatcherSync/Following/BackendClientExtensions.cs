using System.Runtime.CompilerServices;

namespace WatcherSync;

/// <summary>Conveniences over <see cref="IBackendClient"/>.</summary>
public static class BackendClientExtensions
{
    /// <summary>
    /// Watches one key: yields its current pair first (null when absent), then each change, with null when the key
    /// is deleted. Other keys never appear. It survives watch failures as a syncer does; a consumer slower than the
    /// changes sees the latest value rather than every intermediate one. Ends without error when
    /// <paramref name="cancellationToken"/> is cancelled or the enumerator is disposed.
    /// </summary>
    public static async IAsyncEnumerable<KVPair?> WatchKeyAsync(this IBackendClient client, IKey key, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentException.ThrowIfNullOrEmpty(key.DefaultPath, nameof(key));

        var input = new LatestChanges();
        ISyncer syncer = client.CreateSyncer([new ResourceType(new ExactKeyListOptions(key))], input);
        await using (syncer.ConfigureAwait(false))
        {
            syncer.Start();
            try
            {
                await foreach (KVPair? value in FollowKeyAsync(input, key.DefaultPath, cancellationToken).ConfigureAwait(false))
                {
                    yield return value;
                }
            }
            finally
            {
                input.Close();
                await syncer.StopAsync().ConfigureAwait(false);
            }
        }
    }

    internal static async IAsyncEnumerable<KVPair?> FollowKeyAsync(LatestChanges input, string path, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        KVPair? current = null;
        while (true)
        {
            Dictionary<string, KVPair> changes;
            try
            {
                changes = await input.ReadSyncedAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                yield break;
            }

            // Only this key is listed and watched, so every read but the first carries its change.
            if (changes.TryGetValue(path, out KVPair? change))
            {
                current = change.Value is null ? null : change;
            }

            yield return current;
        }
    }
}
