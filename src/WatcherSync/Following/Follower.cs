namespace WatcherSync;

/// <summary>Runs an <see cref="IFollower{T}"/> over a backend.</summary>
public static class Follower
{
    /// <summary>
    /// Syncs <paramref name="resourceTypes"/> from <paramref name="client"/> and keeps <paramref name="follower"/>'s
    /// view: <see cref="IFollower{T}.NewAsync"/> when an item enters it, <see cref="IFollower{T}.UpdatedAsync"/> only
    /// when it really changed, <see cref="IFollower{T}.DeletedAsync"/> when it leaves. Per batch: new and updated
    /// items in key order, then deleted ones in key order, then one <see cref="IFollower{T}.BatchDoneAsync"/>. The
    /// first batch comes once the whole initial state is known; after a relist the view is diffed, so only real
    /// changes are reported. Runs until cancelled or a follower call throws.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static async Task RunAsync(IBackendClient client, IEnumerable<ResourceType> resourceTypes, IFollower<KVPair> follower, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(resourceTypes);
        ArgumentNullException.ThrowIfNull(follower);

        var input = new LatestChanges();
        ISyncer syncer = client.CreateSyncer(resourceTypes, input);
        await using (syncer.ConfigureAwait(false))
        {
            syncer.Start();
            try
            {
                await FollowAsync(input, follower, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                input.Close();
                await syncer.StopAsync().ConfigureAwait(false);
            }
        }
    }

    internal static async Task FollowAsync(LatestChanges input, IFollower<KVPair> follower, CancellationToken cancellationToken)
    {
        var view = new Dictionary<string, KVPair>(StringComparer.Ordinal);
        var upserts = new List<(KVPair? Previous, KVPair Current)>();
        var deletes = new List<KVPair>();
        while (true)
        {
            Dictionary<string, KVPair> changes = await input.ReadSyncedAsync(cancellationToken).ConfigureAwait(false);
            foreach (string key in changes.Keys.Order(StringComparer.Ordinal))
            {
                KVPair change = changes[key];
                bool inView = view.TryGetValue(key, out KVPair? previous);
                if (change.Value is not null && follower.Filter(change))
                {
                    if (!inView)
                    {
                        upserts.Add((null, change));
                    }
                    else if (!follower.Equals(previous!, change))
                    {
                        upserts.Add((previous, change));
                    }
                }
                else if (inView)
                {
                    deletes.Add(previous!);
                }
            }

            foreach ((KVPair? previous, KVPair current) in upserts)
            {
                view[current.Key.DefaultPath] = current;
                if (previous is null)
                {
                    await follower.NewAsync(current).ConfigureAwait(false);
                }
                else
                {
                    await follower.UpdatedAsync(previous, current).ConfigureAwait(false);
                }
            }

            foreach (KVPair previous in deletes)
            {
                view.Remove(previous.Key.DefaultPath);
                await follower.DeletedAsync(previous).ConfigureAwait(false);
            }

            upserts.Clear();
            deletes.Clear();
            await follower.BatchDoneAsync().ConfigureAwait(false);
        }
    }
}
