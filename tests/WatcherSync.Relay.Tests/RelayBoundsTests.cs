using System.Diagnostics;
using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Relay.Server;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// The relay's bounds seen from a client that does nothing wrong: a long snapshot read steadily, a log that has
/// wrapped, a batch larger than a message, a value larger than the limit. None of them may cut the client off.
/// </summary>
public sealed class RelayBoundsTests
{
    [Fact]
    public async Task SnapshotAfterTheLogWrapped_ClientIsAtTheSnapshotsSequence_AndIsNotCutOff()
    {
        await using var store = new InMemoryBackend();
        string value = new('x', 1024);
        for (int i = 0; i < 4000; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), value));
        }

        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store, options =>
        {
            options.MaxLogEntries = 256;
            options.PingInterval = TimeSpan.FromMilliseconds(100);
        }));
        await Eventually.True(() => relay.Feed().Status == SyncStatus.InSync, "the relay is in sync");

        // Writes wrap the log: its first entry is long gone when the client comes.
        for (int i = 0; relay.Feed().FirstSequence <= 1; i++)
        {
            i.Should().BeLessThan(100_000, "the log must wrap");
            long before = relay.Feed().Sequence;
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 10_000 + (i % 10))), $"w{i}"));
            await Eventually.True(() => relay.Feed().Sequence > before, "the write reaches the relay");
        }
        long sequence = relay.Feed().Sequence;

        using var gate = new ManualResetEventSlim(false);
        var callbacks = new RecordingCallbacks { UpdatesGate = gate };
        await using var syncer = new RelaySyncer(Relays.Client(relay.Address), callbacks);
        syncer.Start();
        try
        {
            await Eventually.True(() => callbacks.UpdatesEntered > 0 && relay.Host.Connections.Count == 1, "the client is held mid-snapshot");
            RelayConnection connection = relay.Host.Connections.Open.Single();
            await Eventually.True(() => connection.Cursor == sequence, $"a client taking the snapshot is at its sequence {sequence} (cursor {connection.Cursor})", TimeSpan.FromSeconds(5));
        }
        finally
        {
            // Whatever happened, the held callback is released, or stopping the client would wait on it for ever.
            gate.Set();
        }
        await Relays.ConvergedAsync(callbacks, store, "client");
        syncer.Resyncs.Should().Be(1, "the client was never cut off");
        callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task LongSnapshotReadSteadily_IsPinged_AndNotCutOffAsSilent()
    {
        await using var store = new InMemoryBackend();
        string value = new('s', 1024);
        for (int i = 0; i < 6000; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), value));
        }

        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store, options =>
        {
            options.PingInterval = TimeSpan.FromMilliseconds(100);
            options.PingTimeout = TimeSpan.FromMilliseconds(1000);
        }));
        var callbacks = new SlowCallbacks(TimeSpan.FromMilliseconds(20));
        RelaySyncerOptions client = Relays.Client(relay.Address);
        client.MaxUpdatesPerBatch = 20;
        await using var syncer = new RelaySyncer(client, callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks.Recorded, store, "slow client", TimeSpan.FromSeconds(40));
        syncer.Resyncs.Should().Be(1, "a client that reads steadily is never cut off");
    }

    [Fact]
    public async Task SlowConsumerOfALongSnapshot_IsNotCutOffAsSilent_DuringOrAfterIt()
    {
        await using var store = new InMemoryBackend();
        string value = new('p', 1024);
        for (int i = 0; i < 3000; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(i % 2, i)), value));
        }

        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store, options =>
        {
            options.PingInterval = TimeSpan.FromMilliseconds(100);
            options.PingTimeout = TimeSpan.FromSeconds(1);
        }));
        using var cutOffs = new RelayCounter(relay, "watchersync.relay.clients_cut_off");

        // The consumer takes about 3 s over the picture: three ping timeouts, spent inside the client's read loop.
        var callbacks = new SlowCallbacks(TimeSpan.FromMilliseconds(20));
        RelaySyncerOptions client = Relays.Client(relay.Address);
        client.MaxUpdatesPerBatch = 20;
        await using var syncer = new RelaySyncer(client, callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks.Recorded, store, "slow client", TimeSpan.FromSeconds(60));

        // A cut-off for silence can come after the picture is delivered (a pong waiting behind the deliveries), so the
        // relay is watched for two more ping timeouts.
        var watched = Stopwatch.StartNew();
        await Eventually.True(() => watched.Elapsed > TimeSpan.FromSeconds(2) || cutOffs.Count() > 0, "two ping timeouts pass or a client is cut off", TimeSpan.FromSeconds(30));
        cutOffs.Count().Should().Be(0, "a client that reads steadily is never cut off as silent");
        syncer.Resyncs.Should().Be(1, "the client never had to reconnect");
    }

    [Fact]
    public async Task BatchLargerThanAMessage_IsSplit_AndClientsConvergeWithoutReconnecting()
    {
        await using var store = new InMemoryBackend();
        var upstream = new FaultyBackend(store, seed: 3) { Faults = false, Down = true };
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(upstream, options => options.MaxLogBytes = 256L * 1024 * 1024));
        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(relay.Address), callbacks);
        syncer.Start();
        await Eventually.True(() => relay.Host.Connections.Count == 1 && relay.Feed().SnapshotsEncoded == 1, "the client has its (empty) snapshot");

        // 1,000 values of 70 KiB listed at once: one batch of the feed's syncer, 70 MB, more than any message may be.
        for (int i = 0; i < 1000; i++)
        {
            await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, i)), new string((char)('a' + (i % 26)), 70 * 1024)));
        }

        upstream.Down = false;
        await Relays.ConvergedAsync(callbacks, store, "client", TimeSpan.FromSeconds(60));
        syncer.Resyncs.Should().Be(1, "the client never had to reconnect");
        callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public async Task ValueLargerThanTheLimit_IsRefusedAtTheFeed_AndTheClientDoesNotKeepTheOldValue()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "small"));
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 2)), "other"));
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store, options => options.MaxValueBytes = 64 * 1024));
        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(relay.Address), callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client before the large value");

        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), new string('L', 65 * 1024)));
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 3)), "after"));
        await Eventually.True(
            () => callbacks.Picture.ContainsKey(Relays.Key(0, 3)) && !callbacks.Picture.ContainsKey(Relays.Key(0, 1)),
            "the client drops the value the relay refused and goes on");
        syncer.Resyncs.Should().Be(1, "a refused value is not a reason to reconnect");
        relay.Feed().RefusedValues.Should().Be(1);
        callbacks.Violations.Should().BeEmpty();
    }

    [Fact]
    public void MaxLogEntriesBelow256_IsRefused()
    {
        var options = new RelayServerOptions { AllowAnonymous = true, MaxLogEntries = 100 };
        options.Feeds.Add(new RelayFeedOptions { Name = "default", Backend = new InMemoryBackend() });
        options.Feeds[0].ResourceTypes.Add(Relays.Types[0]);
        Action validate = options.Validate;
        validate.Should().Throw<InvalidOperationException>().WithMessage("*MaxLogEntries*256*");
    }

    /// <summary>A consumer that spends a fixed time on each batch (its work, not a wait for a condition).</summary>
    private sealed class SlowCallbacks(TimeSpan perBatch) : ISyncerCallbacks
    {
        public RecordingCallbacks Recorded { get; } = new();

        public void OnStatusUpdated(SyncStatus status) => Recorded.OnStatusUpdated(status);

        public void OnUpdates(IReadOnlyList<Update> updates)
        {
            Thread.Sleep(perBatch);
            Recorded.OnUpdates(updates);
        }
    }
}
