namespace WatcherSync;

/// <summary>Optional: a backend that deletes every key under a prefix in one revision.</summary>
public interface IPrefixDeleter
{
    /// <summary>Deletes every key that starts with <paramref name="prefix"/> in one revision.</summary>
    /// <returns>The pairs deleted, as they were before the delete; empty when nothing matched.</returns>
    Task<IReadOnlyList<KVPair>> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default);
}
