namespace WatcherSync;

/// <summary>
/// A client of a key-value datastore with revisions: the API every WatcherSync backend implements.
/// Revisions are opaque strings to callers.
/// </summary>
/// <remarks>
/// Key paths and list prefixes are stored and ordered as UTF-8: one that is not valid UTF-16 (a lone surrogate, which
/// has no UTF-8 form) is refused with an <see cref="ArgumentException"/> by every method that takes one.
/// </remarks>
public interface IBackendClient : IAsyncDisposable
{
    /// <summary>Creates <paramref name="kv"/>; fails if the key exists.</summary>
    /// <returns>The stored pair with its revision.</returns>
    /// <exception cref="ResourceAlreadyExistsException">The key exists.</exception>
    Task<KVPair> CreateAsync(KVPair kv, CancellationToken cancellationToken = default);

    /// <summary>Updates an existing key; compare-and-swap when <see cref="KVPair.Revision"/> is set.</summary>
    /// <exception cref="ResourceNotFoundException">The key does not exist.</exception>
    /// <exception cref="ResourceUpdateConflictException">The key's revision is not <see cref="KVPair.Revision"/>.</exception>
    Task<KVPair> UpdateAsync(KVPair kv, CancellationToken cancellationToken = default);

    /// <summary>Creates or updates a key; compare-and-swap when <see cref="KVPair.Revision"/> is set.</summary>
    /// <exception cref="ResourceUpdateConflictException">The key's revision is not <see cref="KVPair.Revision"/>.</exception>
    Task<KVPair> ApplyAsync(KVPair kv, CancellationToken cancellationToken = default);

    /// <summary>Deletes a key; compare-and-swap when <paramref name="revision"/> is given.</summary>
    /// <returns>The pair as it was before the delete.</returns>
    /// <exception cref="ResourceNotFoundException">The key does not exist.</exception>
    /// <exception cref="ResourceUpdateConflictException">The key's revision is not <paramref name="revision"/>.</exception>
    Task<KVPair> DeleteAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default);

    /// <summary>Reads a key, at <paramref name="revision"/> when given.</summary>
    /// <exception cref="ResourceNotFoundException">The key does not exist (at that revision).</exception>
    /// <exception cref="RevisionExpiredException">The revision has been compacted.</exception>
    Task<KVPair> GetAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default);

    /// <summary>Lists every key covered by <paramref name="list"/> at one revision (the latest, or <paramref name="revision"/>).</summary>
    /// <exception cref="RevisionExpiredException">The revision has been compacted.</exception>
    Task<KVPairList> ListAsync(IListOptions list, string? revision = null, CancellationToken cancellationToken = default);

    /// <summary>Watches every key covered by <paramref name="list"/> for changes after <see cref="WatchOptions.Revision"/>.</summary>
    /// <exception cref="RevisionExpiredException">The revision has been compacted.</exception>
    Task<IWatch> WatchAsync(IListOptions list, WatchOptions options, CancellationToken cancellationToken = default);

    /// <summary>Creates a syncer that keeps <paramref name="callbacks"/> in step with the given resource types.</summary>
    ISyncer CreateSyncer(IEnumerable<ResourceType> resourceTypes, ISyncerCallbacks callbacks);

    /// <summary>Makes sure the datastore is reachable and ready to use.</summary>
    Task EnsureInitializedAsync(CancellationToken cancellationToken = default);
}
