using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace WatcherSync;

/// <summary>Options of a <see cref="WatcherSyncer"/>.</summary>
public sealed class WatcherSyncerOptions
{
    /// <summary>
    /// Gets or sets the floor of the wait before a watch is opened again after it failed or ended, and before a relist
    /// after an error (compaction, reset, repeated watch errors); <see cref="Backoff"/> adds jitter and growth above it.
    /// Nothing waits after a success: the first watch after a successful list opens at once. Default: 500 ms.
    /// </summary>
    public TimeSpan MinResyncInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Gets or sets the floor of the wait before a failed list is retried; <see cref="Backoff"/> adds jitter and growth
    /// above it. Default: 1 s.
    /// </summary>
    public TimeSpan ListRetryInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets how retries in a row are spaced above their floor: exponential, full jitter, capped, reset after a
    /// healthy period. Default: client-go's reflector's (800 ms, factor 2, 30 s cap, reset after 2 min).
    /// </summary>
    public BackoffOptions Backoff { get; set; } = new();

    /// <summary>Gets or sets how often to relist a resource type whose backend cannot watch. Default: 5 s.</summary>
    public TimeSpan WatchPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long the syncer tries to reach the datastore before it reports
    /// <see cref="SyncStatus.WaitForDatastore"/> and calls <see cref="ISyncFailCallbacks.SyncFailed"/>. Default: 10 min.
    /// </summary>
    public TimeSpan WatchRetryTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Gets or sets how many unclassified watch errors in a row cause a relist. Default: 5.</summary>
    public int MaxWatchErrorsBeforeRelist { get; set; } = 5;

    /// <summary>Gets or sets the largest number of updates in one <see cref="ISyncerCallbacks.OnUpdates"/> call. Default: 1000.</summary>
    public int MaxUpdatesPerBatch { get; set; } = 1000;

    /// <summary>
    /// Gets or sets a transform applied once to each pair the syncer hands out as New or Updated, after the resource
    /// type's processor and before any callback sees it (deletes are not transformed). It returns the pair to hand out
    /// in its place (with the same key; the revision handed out stays the datastore's), or null, or a pair without a
    /// value, to drop it (the consumer then does not hold the key: a held one is deleted). One that throws, or changes the key, is contained like a parse failure: the write is reported once
    /// through <see cref="ISyncerParseFailCallbacks.ParseFailed"/>, the key is deleted, and the syncer goes on. It runs on
    /// the resource type's watcher cache, one call at a time per resource type. Default: null (none).
    /// </summary>
    public Func<KVPair, KVPair?>? Transform { get; set; }

    /// <summary>
    /// Gets or sets whether <see cref="WatcherSyncer.StopAsync"/> reports every key the consumer holds as Deleted, so
    /// that no one keeps a picture nobody maintains (promise 7). Turn it off for a sink that persists the picture and
    /// must keep it across a restart; either way, callbacks that implement <see cref="ISyncerStoppingCallbacks"/> are
    /// told the syncer is stopping before the stop's deletes. Default: true.
    /// </summary>
    public bool DeleteOnStop { get; set; } = true;

    /// <summary>Gets or sets the clock for every delay and timeout. Default: <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Gets or sets the logger factory; null for no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Gets or sets the meter factory that creates the <c>WatcherSync</c> meter; null for a meter of its own.</summary>
    public IMeterFactory? MeterFactory { get; set; }

    /// <summary>Gets or sets a name for this syncer in logs and metrics (the <c>watchersync.syncer</c> tag). Default: "default".</summary>
    public string Name { get; set; } = "default";

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MinResyncInterval, TimeSpan.Zero, nameof(MinResyncInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(ListRetryInterval, TimeSpan.Zero, nameof(ListRetryInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(WatchPollInterval, TimeSpan.Zero, nameof(WatchPollInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(WatchRetryTimeout, TimeSpan.Zero, nameof(WatchRetryTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxWatchErrorsBeforeRelist, 1, nameof(MaxWatchErrorsBeforeRelist));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxUpdatesPerBatch, 1, nameof(MaxUpdatesPerBatch));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        ArgumentNullException.ThrowIfNull(Backoff, nameof(Backoff));
        Backoff.Validate();
        ArgumentException.ThrowIfNullOrEmpty(Name, nameof(Name));
    }
}
