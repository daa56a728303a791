namespace HostedMirror;

/// <summary>The sample's own settings (the <c>Mirror</c> section).</summary>
public sealed class MirrorSettings
{
    /// <summary>Gets or sets how many keys the demo writer puts in the in-memory store at start. Default: 3.</summary>
    public int SeedKeys { get; set; } = 3;

    /// <summary>Gets or sets how often the demo writer changes a key in the in-memory store. Default: 5 s.</summary>
    public TimeSpan WriteInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Gets or sets how often the health is checked and logged. Default: 10 s.</summary>
    public TimeSpan HealthInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets how long <c>HostedMirror check</c> waits for Healthy. Default: 15 s.</summary>
    public TimeSpan CheckTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Gets or sets how often WatcherSync's metrics are exported to the console through OpenTelemetry; zero turns the
    /// export off. Default: 30 s.
    /// </summary>
    public TimeSpan MetricsExportInterval { get; set; } = TimeSpan.FromSeconds(30);
}
