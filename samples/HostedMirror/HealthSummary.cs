using System.Globalization;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HostedMirror;

/// <summary>Turns a health report into one log line and a process exit code (what a probe or a script reads).</summary>
public static class HealthSummary
{
    /// <summary>The exit code of <c>HostedMirror check</c>: 0 Healthy, 2 Degraded, 1 Unhealthy.</summary>
    /// <param name="status">The report's overall status.</param>
    /// <returns>The exit code.</returns>
    public static int ExitCode(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => 0,
        HealthStatus.Degraded => 2,
        _ => 1,
    };

    /// <summary>One line: the overall status, then each check with its description and data.</summary>
    /// <param name="report">The report.</param>
    /// <returns>The line, for example <c>Healthy: watchersync=Healthy (In sync.) keys=3 status=InSync timeSinceLastEvent=0.4s</c>.</returns>
    public static string Describe(HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var line = new StringBuilder(report.Status.ToString()).Append(':');
        foreach ((string name, HealthReportEntry entry) in report.Entries.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            line.Append(' ').Append(name).Append('=').Append(entry.Status);
            if (!string.IsNullOrEmpty(entry.Description))
            {
                line.Append(" (").Append(entry.Description).Append(')');
            }

            foreach ((string key, object value) in entry.Data.OrderBy(d => d.Key, StringComparer.Ordinal))
            {
                line.Append(' ').Append(key).Append('=').Append(Format(value));
            }
        }

        return line.ToString();
    }

    private static string Format(object value) => value switch
    {
        TimeSpan span => span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };
}
