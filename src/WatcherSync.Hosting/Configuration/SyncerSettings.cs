namespace WatcherSync.Hosting;

/// <summary>
/// The configuration shape of <see cref="WatcherSyncerOptions"/>: its settings only (no transform, time provider,
/// logger or meter factory), null where the configuration has no value.
/// </summary>
internal sealed class SyncerSettings
{
    public TimeSpan? MinResyncInterval { get; set; }

    public TimeSpan? ListRetryInterval { get; set; }

    public BackoffSettings? Backoff { get; set; }

    public TimeSpan? WatchPollInterval { get; set; }

    public TimeSpan? WatchRetryTimeout { get; set; }

    public int? MaxWatchErrorsBeforeRelist { get; set; }

    public int? MaxUpdatesPerBatch { get; set; }

    public bool? DeleteOnStop { get; set; }

    public string? Name { get; set; }

    /// <summary>Sets the options that the configuration gives a value, and leaves the others as they are.</summary>
    public void ApplyTo(WatcherSyncerOptions options)
    {
        options.MinResyncInterval = MinResyncInterval ?? options.MinResyncInterval;
        options.ListRetryInterval = ListRetryInterval ?? options.ListRetryInterval;
        Backoff?.ApplyTo(options.Backoff ??= new BackoffOptions());
        options.WatchPollInterval = WatchPollInterval ?? options.WatchPollInterval;
        options.WatchRetryTimeout = WatchRetryTimeout ?? options.WatchRetryTimeout;
        options.MaxWatchErrorsBeforeRelist = MaxWatchErrorsBeforeRelist ?? options.MaxWatchErrorsBeforeRelist;
        options.MaxUpdatesPerBatch = MaxUpdatesPerBatch ?? options.MaxUpdatesPerBatch;
        options.DeleteOnStop = DeleteOnStop ?? options.DeleteOnStop;
        options.Name = Name ?? options.Name;
    }
}
