namespace WatcherSync.Etcd.Listing;

/// <summary>One page of a list read by <see cref="EtcdListReader"/>.</summary>
/// <param name="KVPairs">The page's pairs, in ordinal key order, after those of every earlier page.</param>
/// <param name="Revision">The revision of the whole list (the same on every page).</param>
/// <param name="ExpectedCount">On the first page, about how many keys the whole list holds (a size hint, never exact
/// where keys are filtered); 0 when unknown.</param>
internal sealed record ListPage(IReadOnlyList<KVPair> KVPairs, string Revision, int ExpectedCount);
