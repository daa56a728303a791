namespace WatcherSync.Relay.Server;

/// <summary>
/// Where a feed's picture stands after one log entry: the highest datastore revision applied, the feed's status, and
/// per prefix bucket the digest and key count of the picture (see <c>PictureDigest</c>). Immutable; entries whose
/// picture did not change share their arrays. A relay continues a client from the newest entry whose position matches
/// the client's.
/// </summary>
internal sealed class FeedPosition(long revision, SyncStatus status, UInt128[] digests, long[] counts)
{
    public long Revision { get; } = revision;

    public SyncStatus Status { get; } = status;

    /// <summary>Gets the same picture with another status.</summary>
    public FeedPosition WithStatus(SyncStatus status) => new(Revision, status, digests, counts);

    /// <summary>Gets the same position with another revision.</summary>
    public FeedPosition WithRevision(long revision) => new(revision, Status, digests, counts);

    /// <summary>Whether the picture, narrowed to the <paramref name="wanted"/> buckets, has this digest and key count.</summary>
    public bool Matches(bool[] wanted, UInt128 digest, long keys)
    {
        UInt128 sum = UInt128.Zero;
        long count = 0;
        for (int bucket = 0; bucket < wanted.Length; bucket++)
        {
            if (wanted[bucket])
            {
                sum += digests[bucket];
                count += counts[bucket];
            }
        }

        return sum == digest && count == keys;
    }
}
