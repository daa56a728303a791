using FluentAssertions;
using Microsoft.Extensions.Logging.Testing;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>Edge cases of the refusal rules of the relay client (docs/relay.md "Refusals").</summary>
public sealed class RefusalRestartTests
{
    [Fact]
    public async Task RefusingRelayRestarts_SameRefusalAfterwards_IsNotReportedAgain()
    {
        // docs/relay.md: each refusal is reported once per endpoint until its reason changes or a session succeeds.
        await using var store = new InMemoryBackend();
        Action<Server.RelayServerOptions> tokens = Relays.Feed(store, o =>
        {
            o.AllowAnonymous = false;
            o.BearerTokens.Add("s3cret");
        });
        TestRelay relay = await TestRelay.StartAsync(tokens);
        int port = relay.Port;
        var logs = new FakeLogCollector();
        var callbacks = new RecordingCallbacks();
        RelaySyncerOptions options = Relays.Client(relay.Address);
        options.LoggerFactory = FakeLogs.Factory(logs);
        options.BearerToken = "guess";
        options.DisconnectedTimeout = TimeSpan.FromMinutes(10);
        await using var syncer = new RelaySyncer(options, callbacks);
        syncer.Start();
        await Eventually.True(() => SyncFailed(callbacks).Count == 1, "the refusal is reported");

        // The relay restarts (a rolling deploy), with the same tokens: while it is down the client sees a transient
        // failure; once it is back it refuses again, for the same reason.
        await relay.KillAsync();
        await Eventually.True(() => Ended(logs).Any(m => m.Contains("Unavailable", StringComparison.Ordinal)), "the client finds the relay down");
        await using TestRelay back = await TestRelay.StartAsync(tokens, port);
        int before = Ended(logs).Count;
        await Eventually.True(() => Ended(logs).Skip(before).Count(m => m.Contains("bearer token", StringComparison.OrdinalIgnoreCase)) >= 3, "the restarted relay refuses the client three more times");

        SyncFailed(callbacks).Select(e => e.Message).Should().ContainSingle("the reason has not changed and no session succeeded: the same refusal is not news");
    }

    private static List<Exception> SyncFailed(RecordingCallbacks callbacks) =>
        [.. callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Select(c => c.Error)];

    private static List<string> Ended(FakeLogCollector logs) =>
        [.. logs.GetSnapshot().Where(r => r.Id.Id == 7101).Select(r => r.Message)];
}
