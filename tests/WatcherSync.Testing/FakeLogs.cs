using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace WatcherSync.Testing;

/// <summary>Logger factories whose every entry, at every level, lands in a <see cref="FakeLogCollector"/>.</summary>
public static class FakeLogs
{
    /// <summary>Creates a logger factory that writes to <paramref name="collector"/>.</summary>
    public static ILoggerFactory Factory(FakeLogCollector collector) =>
        LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(collector)));
}
