namespace WatcherSync;

/// <summary>
/// Optional, internal: implemented by an <see cref="ISyncerCallbacks"/> object that needs the revision a resource
/// type was listed at (DataSync answers the writes a resync folded in by it). Called after the list's updates and
/// before the status it leads to, so the revision is in its place among them.
/// </summary>
internal interface IListedRevisionCallbacks
{
    /// <summary>A full list of resource type <paramref name="resourceIndex"/> at <paramref name="revision"/> has been delivered.</summary>
    void OnListed(int resourceIndex, string revision);
}
