using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using WatcherSync;
using WatcherSync.Hosting;

namespace HostedMirror;

/// <summary>Builds the sample's host and runs its <c>check</c> command.</summary>
public static class MirrorHost
{
    /// <summary>Builds the host: appsettings.json, environment variables and the command line, then AddWatcherSync.</summary>
    /// <param name="args">Command-line arguments (configuration overrides such as <c>--WatcherSync:Backend=Etcd</c>).</param>
    /// <param name="overrides">Configuration values that win over every other source (tests use them); null for none.</param>
    /// <returns>The host, not started.</returns>
    public static IHost Build(string[] args, IDictionary<string, string?>? overrides = null)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.Configure<MirrorSettings>(builder.Configuration.GetSection("Mirror"));
        // The demo writer starts first (hosted services start in registration order), so its seed is in the first list.
        builder.Services.AddHostedService<DemoWriter>();
        builder.Services.AddWatcherSync(builder.Configuration.GetSection(WatcherSyncOptions.DefaultSectionName))
            .AddEtcdBackend()                       // etcd when WatcherSync:Backend is Etcd (WatcherSync.Hosting.Etcd)
            .AddBufferedSink<MirrorSink>();
        builder.Services.AddHealthChecks().AddWatcherSync(tags: ["ready"]);

        // WatcherSync's metrics in OpenTelemetry: add the one meter (the host's IMeterFactory already flows into the
        // syncer and its buffers). Nothing is traced: the sample has no spans of its own to export.
        TimeSpan exportInterval = builder.Configuration.GetSection("Mirror").Get<MirrorSettings>()?.MetricsExportInterval ?? new MirrorSettings().MetricsExportInterval;
        if (exportInterval > TimeSpan.Zero)
        {
            builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
                .AddMeter(WatcherSyncMeter.Name)
                .AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)exportInterval.TotalMilliseconds));
        }
        builder.Services.AddSingleton<HealthReporter>();
        builder.Services.AddHostedService(static sp => sp.GetRequiredService<HealthReporter>());
        return builder.Build();
    }

    /// <summary>
    /// Starts the host, waits until it is Healthy or <see cref="MirrorSettings.CheckTimeout"/> passes, writes the last
    /// report, stops the host and returns the exit code (0 Healthy, 2 Degraded, 1 Unhealthy).
    /// </summary>
    /// <param name="host">A host from <see cref="Build"/>.</param>
    /// <param name="output">Where the report line goes.</param>
    /// <returns>The exit code.</returns>
    public static async Task<int> CheckAsync(IHost host, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(output);
        HealthCheckService health = host.Services.GetRequiredService<HealthCheckService>();
        TimeProvider time = host.Services.GetRequiredService<TimeProvider>();
        TimeSpan timeout = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<MirrorSettings>>().Value.CheckTimeout;

        await host.StartAsync();
        HealthReport report;
        try
        {
            long started = time.GetTimestamp();
            using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(200), time);
            while (true)
            {
                report = await health.CheckHealthAsync(static r => r.Tags.Contains("ready"));
                if (report.Status == HealthStatus.Healthy || time.GetElapsedTime(started) >= timeout)
                {
                    break;
                }

                await poll.WaitForNextTickAsync();
            }
        }
        finally
        {
            await host.StopAsync();
        }

        await output.WriteLineAsync(HealthSummary.Describe(report));
        return HealthSummary.ExitCode(report.Status);
    }
}
