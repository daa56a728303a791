using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace WatcherSync.Hosting.Tests;

/// <summary>Builds hosts with nothing from the environment: no appsettings, no environment variables, no console logging.</summary>
internal static class TestHost
{
    public static HostApplicationBuilder Builder(IDictionary<string, string?>? configuration = null)
    {
        HostApplicationBuilder builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        if (configuration is not null)
        {
            builder.Configuration.AddInMemoryCollection(configuration);
        }

        builder.Services.AddMetrics();
        return builder;
    }
}
