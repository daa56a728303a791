namespace WatcherSync.Relay;

/// <summary>
/// A client never moves backwards: a relay whose picture is at a lower datastore revision than the one the consumer
/// already holds is refused, and the client tries the next relay. The comparison is prefix by prefix when the relay
/// gives its revisions per prefix: each resource type is watched on its own, and one type's watch may be behind while
/// another's is ahead (a prefix where the relay holds no value is not compared: it may have lost every key there).
/// Revisions do go backwards after a datastore reset, so once every relay has been behind for
/// <see cref="RelaySyncerOptions.DisconnectedTimeout"/> the client takes what they have.
/// </summary>
/// <remarks>
/// Invariant: <c>_behindSince</c> is the timestamp of the first welcome from a relay behind the consumer since the
/// last completed resync, or 0 when there was none; only the connection loop writes it, <see cref="Caught"/> may be
/// called from anywhere.
/// </remarks>
internal sealed class RevisionGuard(ClientPicture picture, TimeProvider time, TimeSpan patience)
{
    private long _behindSince;

    /// <summary>Throws when the relay of <paramref name="welcome"/> is behind the consumer and the patience has not run out.</summary>
    /// <exception cref="RelayProtocolException">The relay is behind; try another.</exception>
    public void Check(Uri endpoint, Protocol.Welcome welcome)
    {
        if (welcome.Revision == 0 || Behind(welcome) is not (long relay, long seen, string where))
        {
            return;
        }

        long since = Volatile.Read(ref _behindSince);
        if (since == 0)
        {
            Volatile.Write(ref _behindSince, since = time.GetTimestamp());
        }

        if (time.GetElapsedTime(since) < patience)
        {
            throw new RelayProtocolException($"The relay at {endpoint} is at datastore revision {relay}{where}, behind the {seen} this client already holds; trying another.");
        }

        // Taken although behind (a datastore reset): the revisions of the deletes seen before count no more.
        picture.ForgetDeleteRevisions();
    }

    /// <summary>A resync completed: the consumer holds a relay's current picture, nothing is behind it any more.</summary>
    public void Caught() => Volatile.Write(ref _behindSince, 0);

    /// <summary>Where the relay of <paramref name="welcome"/> is behind what the consumer holds: its revision, the consumer's, and which prefix; null when it is not.</summary>
    private (long Relay, long Seen, string Where)? Behind(Protocol.Welcome welcome)
    {
        if (welcome.BucketRevisions.Count != welcome.Prefixes.Count + 1)
        {
            long held = picture.HeldRevision();
            return (long)welcome.Revision < held ? ((long)welcome.Revision, held, string.Empty) : null;
        }

        long[] seen = picture.HeldRevisions(welcome.Prefixes);
        for (int bucket = 0; bucket < seen.Length; bucket++)
        {
            long relay = (long)welcome.BucketRevisions[bucket];
            if (relay != 0 && relay < seen[bucket])
            {
                return (relay, seen[bucket], bucket < welcome.Prefixes.Count ? $" under {welcome.Prefixes[bucket]}" : " outside its prefixes");
            }
        }

        return null;
    }
}
