namespace WatcherSync.Chaos.Tests.Harness;

/// <summary>The failure a throwing test sink injects.</summary>
public sealed class ChaosSinkException : Exception
{
    public ChaosSinkException()
        : base("injected sink failure")
    {
    }

    public ChaosSinkException(string message)
        : base(message)
    {
    }

    public ChaosSinkException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
