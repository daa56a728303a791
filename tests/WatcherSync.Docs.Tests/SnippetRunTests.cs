using System.Diagnostics;
using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Snippets;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Docs.Tests;

/// <summary>The documented examples that can run on the embedded store do what the documents say, run as written.</summary>
public sealed class SnippetRunTests
{
    [Fact]
    public async Task QuickStart_PrintsWhatTheReadmeSaysItPrints()
    {
        string expected = Documents.Blocks("README.md", string.Empty).Single(b => b.StartsWith("status: ResyncInProgress", StringComparison.Ordinal));
        string program = Path.Combine(AppContext.BaseDirectory, "QuickStart.dll");
        var start = new ProcessStartInfo("dotnet", ["exec", program]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await Eventually.Within(process.WaitForExitAsync(), "the QuickStart sample ends");

        process.ExitCode.Should().Be(0, await error);
        (await output).Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd().Should().Be(expected);
    }

    [Fact]
    public async Task PackageDataSync_RunAsWritten_Completes()
    {
        await using var store = new InMemoryBackend();
        using var stop = new CancellationTokenSource();

        await Eventually.Within(PackageSnippets.DataSyncAsync(store, stop.Token), "the DataSync README's example completes");

        KVPair written = await store.GetAsync(new PathKey("/config/a"));
        written.Value.Should().NotBeNull();
    }

    [Fact]
    public async Task PackageDataSync_RunAsWritten_WhenItsSubscriberIsWatchingBeforeThePut_Completes()
    {
        // The put's change event must be read and acknowledged by someone, or PutAsync waits out the acknowledgement
        // timeout and throws DataSyncAcknowledgementException.
        await using var store = new InMemoryBackend();
        using var stop = new CancellationTokenSource();

        await Eventually.Within(PackageSnippets.DataSyncAsync(new WatchOpenBeforeWritesBackend(store), stop.Token), "the DataSync README's example completes");

        KVPair written = await store.GetAsync(new PathKey("/config/a"));
        written.Value.Should().NotBeNull();
    }

    [Fact]
    public async Task PackageCore_RunAsWritten_ReportsWhatItsCommentSays()
    {
        var sink = new RecordingCallbacks();
        await Eventually.Within(
            PackageSnippets.CoreAsync(sink, () => Eventually.True(() => sink.LastStatus == SyncStatus.InSync, "the syncer is in sync")),
            "the core package README's example runs");

        sink.Statuses.Should().StartWith([SyncStatus.ResyncInProgress, SyncStatus.InSync]);
        sink.AllUpdates[0].UpdateType.Should().Be(UpdateType.New);
        sink.AllUpdates[0].KVPair.Key.DefaultPath.Should().Be("/app/a");
    }

    [Fact]
    public async Task ReadmeDedupe_RunAsWritten_HandsTheSinkThePicture()
    {
        await using var store = new InMemoryBackend();
        await store.CreateAsync(new KVPair(new PathKey("/registry/pods/web-1"), "running"));
        var sink = new RecordingCallbacks();
        using var stop = new CancellationTokenSource();

        Task run = ReadmeSnippets.DedupeAsync(store, [new ResourceType(new PrefixListOptions("/registry/pods/"))], sink, stop.Token);
        await Eventually.True(() => sink.LastStatus == SyncStatus.InSync && sink.Picture.ContainsKey("/registry/pods/web-1"), "the slow sink gets the picture");
        await stop.CancelAsync();

        Func<Task> ending = () => Eventually.Within(run, "the send loop ends on cancellation");
        await ending.Should().ThrowAsync<OperationCanceledException>();
    }
}
