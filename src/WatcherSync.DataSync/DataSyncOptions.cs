using Microsoft.Extensions.Logging;

namespace WatcherSync.DataSync;

/// <summary>Options of a <see cref="DataSyncEngine"/>.</summary>
public sealed class DataSyncOptions
{
    /// <summary>Gets or sets the codec values are written and read with. Default: <see cref="DataSyncValueCodec"/> (JSON, protobuf messages, raw bytes).</summary>
    public IValueCodec Codec { get; set; } = new DataSyncValueCodec();

    /// <summary>Gets or sets how long an event may wait to be taken into a subscriber's channel. Default: <see cref="DataSyncDefaults.DefaultNotifTimeout"/>.</summary>
    public TimeSpan DeliveryTimeout { get; set; } = DataSyncDefaults.DefaultNotifTimeout;

    /// <summary>Gets or sets how long the engine waits for a subscriber's <c>Done</c>. Default: <see cref="DataSyncDefaults.DefaultAckTimeout"/>.</summary>
    public TimeSpan AcknowledgementTimeout { get; set; } = DataSyncDefaults.DefaultAckTimeout;

    /// <summary>Gets or sets the options of the syncers behind the registrations; null for the backend's own (<see cref="IBackendClient.CreateSyncer"/>).</summary>
    public WatcherSyncerOptions? SyncerOptions { get; set; }

    /// <summary>Gets or sets the clock for the timeouts. Default: <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Gets or sets how many changes may queue in a registration for a subscriber that is behind before queued changes
    /// are merged per key (the newest change of each key is kept). Default: <see cref="DataSyncDefaults.DefaultMaxQueuedChanges"/>.
    /// </summary>
    public int MaxQueuedChanges { get; set; } = DataSyncDefaults.DefaultMaxQueuedChanges;

    /// <summary>Gets or sets the logger factory; null for no logging.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Codec, nameof(Codec));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(DeliveryTimeout, TimeSpan.Zero, nameof(DeliveryTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(AcknowledgementTimeout, TimeSpan.Zero, nameof(AcknowledgementTimeout));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedChanges, 1, nameof(MaxQueuedChanges));
    }
}
