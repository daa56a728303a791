using System.Reflection;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using WatcherSync.DataSync;
using WatcherSync.Etcd;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Hosting.Tests.Diagnostics;

public sealed class LogCatalogTests
{
    private static readonly Assembly[] Packages =
    [
        typeof(WatcherSyncer).Assembly,
        typeof(EtcdBackendClient).Assembly,
        typeof(DataSyncEngine).Assembly,
        typeof(WatcherSyncOptions).Assembly,
        typeof(WatcherSync.Relay.RelaySyncer).Assembly,
        typeof(WatcherSync.Relay.Server.RelayServerOptions).Assembly,
    ];

    [Fact]
    public void LoggerMessages_InEveryPackage_AreExactlyTheDocumentedTableWithUniqueIds()
    {
        var messages = Packages
            .SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Select(m => m.GetCustomAttribute<LoggerMessageAttribute>())
            .OfType<LoggerMessageAttribute>()
            .Select(a => (Id: a.EventId.ToString(System.Globalization.CultureInfo.InvariantCulture), Level: a.Level.ToString(), a.Message))
            .ToList();

        messages.Should().NotBeEmpty();
        messages.Select(m => m.Id).Should().OnlyHaveUniqueItems("event ids are stable and never shared");
        messages.Order().Should().Equal(
            DocumentedTable.Rows("docs/logging.md", DocumentedTable.EventId()).Select(r => (r[0], r[1], r[3])).Order(),
            "docs/logging.md lists every log event with its id, level and message (update the Log event ids table when one changes)");
    }

    [Fact]
    public async Task Logs_OfAHostedMirrorAtTraceLevel_NeverContainAValue()
    {
        const string Secret = "value-that-must-not-be-logged-7f3a";
        var logs = new FakeLogCollector();
        HostApplicationBuilder builder = TestHost.Builder();
        builder.Services.AddSingleton(FakeLogs.Factory(logs));
        builder.Services.AddWatcherSync().AddPrefix("/app/").AddBufferedSink<RecordingCallbacks>().AddSink<RecordingCallbacks>();
        using IHost host = builder.Build();
        InMemoryBackend store = host.Services.GetRequiredService<InMemoryBackend>();
        await store.CreateAsync(new KVPair(new PathKey("/app/a"), Secret));
        RecordingCallbacks sink = host.Services.GetRequiredService<RecordingCallbacks>();

        await host.StartAsync();
        await Eventually.True(() => sink.LastStatus == SyncStatus.InSync, "the mirror is in sync");
        await store.ApplyAsync(new KVPair(new PathKey("/app/a"), Secret + "-2"));
        await store.CreateAsync(new KVPair(new PathKey("/app/b"), Secret + "-3"));
        await Eventually.True(() => sink.Picture.Count == 2 && Equals(sink.Picture["/app/a"], Secret + "-2"), "the changes arrive");
        await store.DeleteAsync(new PathKey("/app/b"));
        await Eventually.True(() => sink.Picture.Count == 1, "the delete arrives");
        await host.StopAsync();

        logs.GetSnapshot().Should().Contain(e => e.Id.Id == 1000, "the syncer logged through the host's factory");
        logs.GetSnapshot().Should().NotContain(e => e.Message.Contains(Secret, StringComparison.Ordinal) || (e.Exception != null && e.Exception.ToString().Contains(Secret, StringComparison.Ordinal)));
    }
}
