using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WatcherSync.Etcd;

namespace WatcherSync.Hosting;

/// <summary>Gives the syncer and the etcd client the service provider's logger and meter factories, unless set already.</summary>
internal sealed class DiagnosticsPostConfigure(IServiceProvider services) : IPostConfigureOptions<WatcherSyncOptions>, IPostConfigureOptions<EtcdClientOptions>
{
    public void PostConfigure(string? name, WatcherSyncOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Syncer is { } syncer)
        {
            syncer.LoggerFactory ??= LoggerFactory;
            syncer.MeterFactory ??= MeterFactory;
        }
    }

    public void PostConfigure(string? name, EtcdClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.LoggerFactory ??= LoggerFactory;
        options.MeterFactory ??= MeterFactory;
    }

    private ILoggerFactory? LoggerFactory => (ILoggerFactory?)services.GetService(typeof(ILoggerFactory));

    private IMeterFactory? MeterFactory => (IMeterFactory?)services.GetService(typeof(IMeterFactory));
}
