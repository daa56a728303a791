namespace WatcherSync.DataSync;

/// <summary>
/// A key as a write of this engine left it: put at <see cref="Revision"/>, or deleted when it had <see cref="Revision"/>
/// (the datastore does not say at which revision a delete happened, only which revision it ended).
/// </summary>
internal readonly record struct WrittenKey(string Key, long Revision, bool Deleted);

/// <summary>An acknowledged change event (<see cref="Changes"/>) or resync (<see cref="Picture"/> at <see cref="Revision"/>).</summary>
internal sealed record Acknowledgement(IReadOnlyList<(string Key, long Revision)>? Changes, IReadOnlyDictionary<string, long>? Picture, long Revision, Exception? Error)
{
    /// <summary>Gets whether the subscriber, acknowledging this, has seen <paramref name="key"/> or something later.</summary>
    public bool Answers(WrittenKey key)
    {
        if (Changes is not null)
        {
            // A change of the key at the write's revision or later; after a delete, the first change is the delete.
            foreach ((string changed, long revision) in Changes)
            {
                if (string.Equals(changed, key.Key, StringComparison.Ordinal) && (key.Deleted ? revision > key.Revision : revision >= key.Revision))
                {
                    return true;
                }
            }

            return false;
        }

        if (!key.Deleted)
        {
            return Revision >= key.Revision;
        }

        // The key lived from key.Revision until the delete: a state taken after key.Revision in which the key no
        // longer has that revision was taken after the delete.
        return Revision > key.Revision && (!Picture!.TryGetValue(key.Key, out long held) || held != key.Revision);
    }
}
