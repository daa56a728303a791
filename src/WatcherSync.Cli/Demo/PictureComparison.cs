namespace WatcherSync.Cli.Demo;

/// <summary>How a consumer's picture differs from the datastore: keys missing, keys it should not have, stale values.</summary>
internal sealed record PictureComparison(int Expected, int Held, int Missing, int Extra, int Stale, string? Example)
{
    public bool Matches => Missing == 0 && Extra == 0 && Stale == 0 && Expected == Held;

    public static PictureComparison Compare(IReadOnlyDictionary<string, KVPair> expected, IReadOnlyDictionary<string, KVPair> held)
    {
        int missing = 0;
        int stale = 0;
        string? example = null;
        foreach ((string key, KVPair truth) in expected)
        {
            if (!held.TryGetValue(key, out KVPair? pair))
            {
                missing++;
                example ??= $"{key} is missing";
            }
            else if (!string.Equals(pair.Revision, truth.Revision, StringComparison.Ordinal) || !Equals(pair.Value, truth.Value))
            {
                stale++;
                example ??= $"{key} is at revision {pair.Revision}, the datastore at {truth.Revision}";
            }
        }

        int extra = 0;
        foreach (string key in held.Keys)
        {
            if (!expected.ContainsKey(key))
            {
                extra++;
                example ??= $"{key} is not in the datastore";
            }
        }

        return new PictureComparison(expected.Count, held.Count, missing, extra, stale, example);
    }

    public override string ToString() =>
        Matches ? $"{Held} keys" : $"{Held} keys held, {Expected} expected: {Missing} missing, {Extra} extra, {Stale} stale (e.g. {Example})";
}
