using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>The client's silence watchdog at the edges of the options it accepts.</summary>
public sealed class RelaySilenceWatchdogTests
{
    [Fact]
    public async Task ASilenceTimeoutOfAYear_IsRefusedByValidate_OrTheClientStillSyncs()
    {
        // An operator who wants no silence detection sets a very long SilenceTimeout: Validate only asks for a positive
        // one. The watchdog checks four times per limit on the system clock, whose timers go no further than ~49.7 days.
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "v1"));
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store));
        await Eventually.True(() => relay.Feed().Status == SyncStatus.InSync, "the relay is in sync");

        RelaySyncerOptions options = Relays.Client(relay.Address);
        options.SilenceTimeout = TimeSpan.FromDays(365);
        var callbacks = new RecordingCallbacks();
        RelaySyncer syncer;
        try
        {
            syncer = new RelaySyncer(options, callbacks);
        }
        catch (InvalidOperationException)
        {
            // Refusing a limit the clock cannot time is as good as honouring it.
            return;
        }

        await using (syncer)
        {
            syncer.Start();
            await Eventually.True(() => syncer.Status == SyncStatus.InSync, $"a client with a SilenceTimeout Validate accepted gets in sync (status {syncer.Status}, resyncs {syncer.Resyncs}, connected {syncer.ConnectedEndpoint})", TimeSpan.FromSeconds(20));
        }
    }
}
