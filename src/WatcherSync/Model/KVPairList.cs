namespace WatcherSync;

/// <summary>The result of a list: every pair that existed at one <see cref="Revision"/>.</summary>
/// <param name="KVPairs">The pairs, in ordinal key order.</param>
/// <param name="Revision">The datastore revision the list reflects.</param>
public sealed record KVPairList(IReadOnlyList<KVPair> KVPairs, string Revision);
