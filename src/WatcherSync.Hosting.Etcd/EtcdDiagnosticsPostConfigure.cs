using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using WatcherSync.Etcd;

namespace WatcherSync.Hosting;

/// <summary>Gives the etcd client the service provider's logger and meter factories, unless set already.</summary>
internal sealed class EtcdDiagnosticsPostConfigure(IServiceProvider services) : IPostConfigureOptions<EtcdClientOptions>
{
    public void PostConfigure(string? name, EtcdClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.LoggerFactory ??= (ILoggerFactory?)services.GetService(typeof(ILoggerFactory));
        options.MeterFactory ??= (IMeterFactory?)services.GetService(typeof(IMeterFactory));
    }
}
