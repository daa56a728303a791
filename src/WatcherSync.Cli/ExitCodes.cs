namespace WatcherSync.Cli;

/// <summary>The process exit codes of every command.</summary>
internal static class ExitCodes
{
    /// <summary>The command did what it was asked.</summary>
    public const int Success = 0;

    /// <summary>The command failed: unreachable datastore, refused credentials, a failed check.</summary>
    public const int Failure = 1;

    /// <summary>The command line was wrong: an unknown flag, a missing or malformed value.</summary>
    public const int Usage = 2;

    /// <summary>Interrupted (Ctrl+C) before the command could finish its work.</summary>
    public const int Interrupted = 130;
}
