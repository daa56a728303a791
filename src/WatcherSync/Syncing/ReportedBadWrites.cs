namespace WatcherSync;

/// <summary>
/// The bad writes (a raw key and its revision whose value could not be parsed) a watcher cache has reported, so that a
/// replay of the same write (a watch resumed before its revision, a relist that finds it again) is not reported twice.
/// </summary>
/// <remarks>
/// Invariant: a key is here only while its latest write seen is bad. It leaves on a good write or a delete of the key,
/// and after a list that no longer finds it; so the memory follows the bad keys the datastore holds, not history.
/// </remarks>
internal sealed class ReportedBadWrites
{
    private readonly Dictionary<string, (string? Revision, int Epoch)> _reported = new(StringComparer.Ordinal);

    /// <summary>Gets how many keys are remembered.</summary>
    public int Count => _reported.Count;

    /// <summary>
    /// Notes the bad write of <paramref name="rawKey"/> at <paramref name="revision"/>, seen in list epoch
    /// <paramref name="epoch"/>. Returns true when it has not been reported yet (or revisions cannot be trusted).
    /// </summary>
    public bool Note(string rawKey, string? revision, int epoch, bool revisionsVoid)
    {
        bool known = _reported.TryGetValue(rawKey, out (string? Revision, int Epoch) seen)
            && revision is not null
            && string.Equals(seen.Revision, revision, StringComparison.Ordinal);
        _reported[rawKey] = (revision, epoch);
        return !known || revisionsVoid;
    }

    /// <summary>The key was written with a good value, or deleted.</summary>
    public void Forget(string rawKey)
    {
        // Called for every good pair: with no bad key known (the usual case) it costs no lookup.
        if (_reported.Count != 0)
        {
            _reported.Remove(rawKey);
        }
    }

    /// <summary>After the list of epoch <paramref name="epoch"/>: forgets the keys it did not find.</summary>
    public void ForgetUnlisted(int epoch)
    {
        foreach (KeyValuePair<string, (string? Revision, int Epoch)> pair in _reported)
        {
            if (pair.Value.Epoch != epoch)
            {
                _reported.Remove(pair.Key);
            }
        }
    }
}
