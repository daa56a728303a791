using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;

namespace WatcherSync;

/// <summary>Options of a <see cref="DedupeBuffer"/>.</summary>
public sealed class DedupeBufferOptions
{
    /// <summary>The largest <see cref="BatchSize"/> accepted: 1,048,576.</summary>
    public const int MaxBatchSize = 1 << 20;

    /// <summary>
    /// Gets or sets the most updates handed to the sink in one <see cref="ISyncerCallbacks.OnUpdates"/> call.
    /// Between 1 and <see cref="MaxBatchSize"/>. Default: 100.
    /// </summary>
    public int BatchSize { get; set; } = 100;

    /// <summary>Gets or sets where the buffer logs; null for no logging. Default: null.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// Gets or sets the factory of the <c>WatcherSync</c> meter the buffer publishes its figures on; null for a meter
    /// the buffer makes (and disposes) itself. Default: null.
    /// </summary>
    public IMeterFactory? MeterFactory { get; set; }

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(BatchSize, MaxBatchSize, nameof(BatchSize));
    }
}
