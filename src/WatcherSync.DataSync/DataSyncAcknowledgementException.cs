namespace WatcherSync.DataSync;

/// <summary>A subscriber reported an error for an event, did not take it in time, or did not acknowledge it in time.</summary>
public sealed class DataSyncAcknowledgementException : Exception
{
    /// <summary>Creates the exception.</summary>
    public DataSyncAcknowledgementException(string registration, string message, bool timedOut, Exception? innerException = null)
        : base(message, innerException)
    {
        Registration = registration;
        TimedOut = timedOut;
    }

    /// <summary>Gets the resync name of the registration whose subscriber failed.</summary>
    public string Registration { get; }

    /// <summary>Gets whether the failure is a timeout (the event was dropped or never acknowledged).</summary>
    public bool TimedOut { get; }
}
