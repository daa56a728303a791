using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HostedMirror;

/// <summary>
/// Checks health every <see cref="MirrorSettings.HealthInterval"/> and logs it: at Information when the status
/// changes, at Debug when it does not. What an HTTP health endpoint would serve, without ASP.NET.
/// </summary>
public sealed partial class HealthReporter(HealthCheckService health, IOptions<MirrorSettings> settings, TimeProvider time, ILogger<HealthReporter> logger) : BackgroundService
{
    private HealthStatus? _last;

    /// <summary>Checks once and logs the result; returns the report.</summary>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>The report.</returns>
    public async Task<HealthReport> ReportOnceAsync(CancellationToken cancellationToken)
    {
        HealthReport report = await health.CheckHealthAsync(cancellationToken);
        string summary = HealthSummary.Describe(report);
        if (report.Status != _last)
        {
            LogChanged(logger, report.Status == HealthStatus.Healthy ? LogLevel.Information : LogLevel.Warning, summary);
            _last = report.Status;
        }
        else
        {
            LogSame(logger, summary);
        }

        return report;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.Value.HealthInterval, time);
        do
        {
            await ReportOnceAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(EventId = 200, Message = "Health {Summary}")]
    private static partial void LogChanged(ILogger logger, LogLevel level, string summary);

    [LoggerMessage(201, LogLevel.Debug, "Health {Summary}")]
    private static partial void LogSame(ILogger logger, string summary);
}
