namespace WatcherSync;

/// <summary>
/// Where a watcher cache's next watch resumes: a revision all of whose events have been seen (a list, a bookmark, or
/// the revision of an event followed by an event of a later revision). The revision of the last event seen may still
/// have events to come (one etcd transaction or prefix delete is many events at one revision), so a watch that breaks
/// resumes before it; the events seen again are swallowed as repeats by the key set.
/// </summary>
/// <remarks>Invariant: <see cref="Revision"/> is null only before the first list; <c>_lastEvent</c> is null right after a list or a bookmark.</remarks>
internal sealed class ResumePoint
{
    private string? _lastEvent;

    /// <summary>Gets the revision a new watch starts after.</summary>
    public string? Revision { get; private set; }

    /// <summary>A list at <paramref name="revision"/>: everything up to it is known.</summary>
    public void Listed(string revision)
    {
        Revision = revision;
        _lastEvent = null;
    }

    /// <summary>A bookmark: everything up to it is known. Returns true when it moved the resume point (progress).</summary>
    public bool Bookmark(string revision)
    {
        bool moved = !string.Equals(revision, Revision, StringComparison.Ordinal);
        Revision = revision;
        _lastEvent = null;
        return moved;
    }

    /// <summary>An event at <paramref name="revision"/>; returns true when it moved past the last event's revision.</summary>
    public bool Event(string? revision)
    {
        if (revision is null || string.Equals(revision, _lastEvent, StringComparison.Ordinal))
        {
            return false;
        }

        if (_lastEvent is not null)
        {
            Revision = _lastEvent;
        }

        _lastEvent = revision;
        return true;
    }
}
