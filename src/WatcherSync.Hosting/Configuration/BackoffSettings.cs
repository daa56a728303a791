namespace WatcherSync.Hosting;

/// <summary>The configuration shape of <see cref="BackoffOptions"/>: its settings only (no <see cref="Random"/>), null where the configuration has no value.</summary>
internal sealed class BackoffSettings
{
    public TimeSpan? InitialDelay { get; set; }

    public double? Factor { get; set; }

    public TimeSpan? MaxDelay { get; set; }

    public TimeSpan? ResetAfter { get; set; }

    /// <summary>Sets the options that the configuration gives a value, and leaves the others as they are.</summary>
    public void ApplyTo(BackoffOptions options)
    {
        options.InitialDelay = InitialDelay ?? options.InitialDelay;
        options.Factor = Factor ?? options.Factor;
        options.MaxDelay = MaxDelay ?? options.MaxDelay;
        options.ResetAfter = ResetAfter ?? options.ResetAfter;
    }
}
