using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace WatcherSync.Hosting;

/// <summary>Gives the syncer the service provider's logger and meter factories, unless set already.</summary>
internal sealed class DiagnosticsPostConfigure(IServiceProvider services) : IPostConfigureOptions<WatcherSyncOptions>
{
    public void PostConfigure(string? name, WatcherSyncOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Syncer is { } syncer)
        {
            syncer.LoggerFactory ??= (ILoggerFactory?)services.GetService(typeof(ILoggerFactory));
            syncer.MeterFactory ??= (IMeterFactory?)services.GetService(typeof(IMeterFactory));
        }
    }
}
