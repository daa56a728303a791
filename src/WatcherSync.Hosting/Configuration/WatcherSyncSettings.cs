namespace WatcherSync.Hosting;

/// <summary>The configuration shape of <see cref="WatcherSyncOptions"/>, null where the configuration has no value.</summary>
internal sealed class WatcherSyncSettings
{
    public WatcherSyncBackend? Backend { get; set; }

    public List<string>? Prefixes { get; set; }

    public SyncerSettings? Syncer { get; set; }

    public TimeSpan? MaxEventAge { get; set; }

    public TimeSpan? UnreachableDegradedAfter { get; set; }

    /// <summary>
    /// Sets the options that the configuration gives a value, and leaves the others as they are; the prefixes are
    /// added to those already there, as the reflection-based binder did.
    /// </summary>
    public void ApplyTo(WatcherSyncOptions options)
    {
        options.Backend = Backend ?? options.Backend;
        foreach (string prefix in Prefixes ?? [])
        {
            options.Prefixes.Add(prefix);
        }

        Syncer?.ApplyTo(options.Syncer ??= new WatcherSyncerOptions());
        options.MaxEventAge = MaxEventAge ?? options.MaxEventAge;
        options.UnreachableDegradedAfter = UnreachableDegradedAfter ?? options.UnreachableDegradedAfter;
    }
}
