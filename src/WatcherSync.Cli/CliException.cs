namespace WatcherSync.Cli;

/// <summary>A failure whose message is meant for the person at the terminal, printed as it is on one line.</summary>
internal sealed class CliException : Exception
{
    public CliException()
    {
    }

    public CliException(string message)
        : base(message)
    {
    }

    public CliException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets or sets the exit code; <see cref="ExitCodes.Failure"/> unless said otherwise.</summary>
    public int ExitCode { get; init; } = ExitCodes.Failure;
}
