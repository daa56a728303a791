using System.Diagnostics.Metrics;
using FluentAssertions;
using HostedMirror;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Hosting.Tests.Samples;

public sealed class HostedMirrorTests
{
    [Theory]
    [InlineData(HealthStatus.Healthy, 0)]
    [InlineData(HealthStatus.Degraded, 2)]
    [InlineData(HealthStatus.Unhealthy, 1)]
    public void ExitCode_EachStatus_IsWhatAProbeReads(HealthStatus status, int expected) =>
        HealthSummary.ExitCode(status).Should().Be(expected);

    [Theory]
    [InlineData("00:00:30", true)]
    [InlineData("00:00:00", false)]
    public async Task Metrics_ExportedThroughOpenTelemetry_ListenToEveryWatcherSyncInstrument(string interval, bool exported)
    {
        using IHost host = MirrorHost.Build([], new Dictionary<string, string?> { ["Mirror:MetricsExportInterval"] = interval });
        IMeterFactory factory = host.Services.GetRequiredService<IMeterFactory>();
        var instruments = new List<Instrument>();

        // This listener only takes note of the instruments; whether they are enabled says whether OpenTelemetry listens.
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter.Scope == factory && instrument.Meter.Name == WatcherSyncMeter.Name)
                {
                    lock (instruments)
                    {
                        instruments.Add(instrument);
                    }
                }
            },
        };
        listener.Start();
        await host.StartAsync();
        try
        {
            lock (instruments)
            {
                instruments.Should().Contain(i => i.Name == "watchersync.syncer.updates").And.Contain(i => i.Name == "watchersync.dedupe.queue.length");
                instruments.Should().OnlyContain(i => i.Enabled == exported, exported ? "OpenTelemetry listens to the WatcherSync meter" : "the export is off");
            }
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact]
    public void Describe_Report_IsOneLineWithEveryCheckAndItsDataInOrder()
    {
        var report = new HealthReport(
            new Dictionary<string, HealthReportEntry>
            {
                ["watchersync"] = new(HealthStatus.Degraded, "Resync in progress.", TimeSpan.Zero, null, new Dictionary<string, object>
                {
                    ["status"] = "ResyncInProgress",
                    ["timeSinceLastEvent"] = TimeSpan.FromMilliseconds(1250),
                    ["keys"] = 12L,
                }),
                ["disk"] = new(HealthStatus.Healthy, null, TimeSpan.Zero, null, null),
            },
            TimeSpan.Zero);

        HealthSummary.Describe(report).Should().Be(
            "Degraded: disk=Healthy watchersync=Degraded (Resync in progress.) keys=12 status=ResyncInProgress timeSinceLastEvent=1.3s");
    }

    [Fact]
    public async Task Check_InMemoryFromAppSettings_IsHealthyWithTheSeededKeys()
    {
        using IHost host = MirrorHost.Build([], new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "None" });
        var output = new StringWriter();

        int exitCode = await MirrorHost.CheckAsync(host, output);

        exitCode.Should().Be(0, output.ToString());
        output.ToString().Should().StartWith("Healthy: watchersync=Healthy (In sync.) keys=3 ").And.Contain("syncer=mirror");
    }

    [Fact]
    public async Task Check_EtcdUnreachable_IsUnhealthyWaitingForTheDatastore()
    {
        using IHost host = MirrorHost.Build(
            ["--WatcherSync:Backend=Etcd", "--WatcherSync:Etcd:Endpoints:0=http://127.0.0.1:1", "--WatcherSync:Etcd:RequestTimeout=00:00:01"],
            new Dictionary<string, string?> { ["Mirror:CheckTimeout"] = "00:00:01", ["Logging:LogLevel:Default"] = "None" });
        var output = new StringWriter();

        int exitCode = await MirrorHost.CheckAsync(host, output);

        exitCode.Should().Be(1, output.ToString());
        output.ToString().Should().StartWith("Unhealthy: watchersync=Unhealthy (Waiting for the datastore.)");
    }

    [Fact]
    public async Task ReportOnce_StatusChanges_LogsAtInformationOrWarningAndRepeatsAtDebug()
    {
        var health = new ScriptedHealth(HealthStatus.Unhealthy, HealthStatus.Unhealthy, HealthStatus.Healthy);
        var logs = new FakeLogCollector();
        var reporter = new HealthReporter(health, Options.Create(new MirrorSettings()), TimeProvider.System, FakeLogs.Factory(logs).CreateLogger<HealthReporter>());

        for (int i = 0; i < 3; i++)
        {
            await reporter.ReportOnceAsync(CancellationToken.None);
        }

        logs.GetSnapshot().Select(e => (e.Id.Id, e.Level)).Should().Equal((200, LogLevel.Warning), (201, LogLevel.Debug), (200, LogLevel.Information));
        logs.GetSnapshot()[2].Message.Should().Be("Health Healthy: watchersync=Healthy");
    }

    /// <summary>A health service that answers with the given statuses in turn.</summary>
    private sealed class ScriptedHealth(params HealthStatus[] statuses) : HealthCheckService
    {
        private int _next;

        public override Task<HealthReport> CheckHealthAsync(Func<HealthCheckRegistration, bool>? predicate, CancellationToken cancellationToken = default)
        {
            HealthStatus status = statuses[_next++];
            var entries = new Dictionary<string, HealthReportEntry> { ["watchersync"] = new(status, null, TimeSpan.Zero, null, null) };
            return Task.FromResult(new HealthReport(entries, TimeSpan.Zero));
        }
    }
}
