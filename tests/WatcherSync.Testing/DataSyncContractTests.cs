using System.Threading.Channels;
using FluentAssertions;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.DataSync;
using Xunit;

namespace WatcherSync.Testing;

/// <summary>
/// The DataSync layer's behaviour over a real backend. A backend's test project derives from this class once; each
/// test works under its own <see cref="Prefix"/>.
/// </summary>
public abstract class DataSyncContractTests : IAsyncLifetime
{
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly FakeLogCollector _logs = new();

    protected string Prefix { get; } = $"/datasync/{Guid.NewGuid():N}/";

    /// <summary>Creates a client of the shared datastore (each call a new one where the backend allows).</summary>
    protected abstract Task<IBackendClient> CreateClientAsync();

    /// <summary>Compacts the datastore at its current revision.</summary>
    protected abstract Task CompactAsync(IBackendClient client);

    /// <summary>Lets at least <paramref name="elapsed"/> of datastore time pass.</summary>
    protected abstract Task AdvanceTimeAsync(TimeSpan elapsed);

    private IBackendClient Client { get; set; } = null!;

    public async Task InitializeAsync() => Client = await CreateClientAsync();

    public async Task DisposeAsync()
    {
        for (int i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        await Client.DisposeAsync();
    }

    [Fact]
    public async Task Watch_NameInUse_DuplicatePrefix_UnknownName_UnknownPrefix_AllFail()
    {
        DataSyncEngine engine = Engine(Client);
        var sub = new Subscriber();
        IWatchRegistration registration = engine.Watch("plugin", sub.Changes, sub.Resyncs, P("a/"));
        _owned.Add(registration);

        Action nameInUse = () => engine.Watch("plugin", sub.Changes, sub.Resyncs, P("b/"));
        nameInUse.Should().Throw<ArgumentException>().WithMessage("*in use*");
        Action duplicate = () => engine.Watch("other", sub.Changes, sub.Resyncs, P("b/"), P("b/"));
        duplicate.Should().Throw<ArgumentException>();
        Action unknownName = () => registration.Register("nobody", P("c/"));
        unknownName.Should().Throw<ArgumentException>();
        Action duplicatePrefix = () => registration.Register("plugin", P("a/"));
        duplicatePrefix.Should().Throw<ArgumentException>();
        Action unknownPrefix = () => registration.Unregister(P("zzz/"));
        unknownPrefix.Should().Throw<ArgumentException>();
        Action noPrefix = () => engine.Watch("none", sub.Changes, sub.Resyncs);
        noPrefix.Should().Throw<ArgumentException>();
    }

    [Fact]
    public async Task Start_ResyncHoldsEveryPrefix_PossiblyEmpty_ThenChangesWithPreviousValues()
    {
        await Client.ApplyAsync(new KVPair(new PathKey(P("a/1")), Bytes("\"one\"")));
        DataSyncEngine engine = Engine(Client);
        var sub = new Subscriber();
        _owned.Add(engine.Watch("plugin", sub.Changes, sub.Resyncs, P("a/"), P("b/")));

        ResyncEvent resync = await sub.NextResyncAsync();
        resync.Values.Keys.Should().BeEquivalentTo([P("a/"), P("b/")]);
        resync.Values[P("a/")].Select(kv => (kv.Key, kv.GetValue<string>())).Should().Equal((P("a/1"), "one"));
        resync.Values[P("b/")].Should().BeEmpty();

        await engine.PutAsync(P("b/new"), "fresh");
        ChangeEvent created = await sub.NextChangeAsync();
        IChangeValue put = created.Changes.Should().ContainSingle().Subject;
        (put.Key, put.ChangeType, put.GetValue<string>()).Should().Be((P("b/new"), ChangeType.Put, "fresh"));
        put.TryGetPrevValue(out string? none).Should().BeFalse("a key absent from the resync has no previous value");
        none.Should().BeNull();

        await engine.PutAsync(P("a/1"), "uno");
        IChangeValue update = (await sub.NextChangeAsync()).Changes.Single();
        update.TryGetPrevValue(out string? prev).Should().BeTrue();
        prev.Should().Be("one");
        long.Parse(update.Revision, System.Globalization.CultureInfo.InvariantCulture)
            .Should().BeGreaterThan(long.Parse(put.Revision, System.Globalization.CultureInfo.InvariantCulture));
        update.PrevRevision.Should().NotBeNull();

        (await engine.DeleteAsync(P("a/1"))).Should().BeTrue();
        IChangeValue delete = (await sub.NextChangeAsync()).Changes.Single();
        delete.ChangeType.Should().Be(ChangeType.Delete);
        delete.TryGetPrevValue(out string? deletedValue).Should().BeTrue();
        deletedValue.Should().Be("uno");

        (await engine.DeleteAsync(P("a/never"))).Should().BeFalse();
        await engine.PutAsync(P("a/after"), 1);
        (await sub.NextChangeAsync()).Changes.Single().Key.Should().Be(P("a/after"), "deleting a missing key sends nothing");
    }

    [Fact]
    public async Task TwoSubscribers_OnOneKey_SeeTheSamePreviousValueAndRevision()
    {
        DataSyncEngine engine = Engine(Client);
        var first = new Subscriber();
        var second = new Subscriber();
        _owned.Add(engine.Watch("first", first.Changes, first.Resyncs, P("k/")));
        await first.NextResyncAsync();
        await engine.PutAsync(P("k/x"), "v1");
        _owned.Add(engine.Watch("second", second.Changes, second.Resyncs, P("k/")));
        await second.NextResyncAsync();
        (await first.NextChangeAsync()).Changes.Single().GetValue<string>().Should().Be("v1");

        await engine.PutAsync(P("k/x"), "v2");
        IChangeValue a = (await first.NextChangeAsync()).Changes.Single();
        IChangeValue b = (await second.NextChangeAsync()).Changes.Single();
        (a.Revision, a.PrevRevision).Should().Be((b.Revision, b.PrevRevision));
        a.TryGetPrevValue(out string? prevA).Should().BeTrue();
        b.TryGetPrevValue(out string? prevB).Should().BeTrue();
        prevA.Should().Be("v1").And.Be(prevB);
    }

    [Fact]
    public async Task DoneWithError_ReachesTheWriter()
    {
        DataSyncEngine engine = Engine(Client);
        var sub = new Subscriber { Answer = e => e is ChangeEvent ? new InvalidOperationException("cannot apply") : null };
        _owned.Add(engine.Watch("plugin", sub.Changes, sub.Resyncs, P("e/")));
        await sub.NextResyncAsync();

        Func<Task> put = () => engine.PutAsync(P("e/1"), "x");
        DataSyncAcknowledgementException error = (await put.Should().ThrowAsync<DataSyncAcknowledgementException>()).Which;
        error.Registration.Should().Be("plugin");
        error.TimedOut.Should().BeFalse();
        error.InnerException!.Message.Should().Be("cannot apply");
    }

    [Fact]
    public async Task SubscriberThatNeverCallsDone_YieldsATimeout_NotSuccess()
    {
        DataSyncEngine engine = Engine(Client, ackTimeout: TimeSpan.FromMilliseconds(500));
        var failures = new List<AcknowledgementFailedEventArgs>();
        engine.AcknowledgementFailed += (_, e) =>
        {
            lock (failures)
            {
                failures.Add(e);
            }
        };
        var sub = new Subscriber { NeverDone = e => e is ChangeEvent };
        _owned.Add(engine.Watch("silent", sub.Changes, sub.Resyncs, P("t/")));
        await sub.NextResyncAsync();

        Func<Task> put = () => engine.PutAsync(P("t/1"), "x");
        (await put.Should().ThrowAsync<DataSyncAcknowledgementException>()).Which.TimedOut.Should().BeTrue();
        lock (failures)
        {
            failures.Should().ContainSingle().Which.Keys.Should().Equal(P("t/1"));
        }
    }

    [Fact]
    public async Task DeliveryTimeout_RunsOnTheEnginesTimeProvider()
    {
        var time = new FakeTimeProvider();
        DataSyncEngine engine = Engine(Client, ackTimeout: TimeSpan.FromHours(1), time: time, deliveryTimeout: TimeSpan.FromHours(1));
        var failures = new List<string>();
        engine.AcknowledgementFailed += (_, e) =>
        {
            lock (failures)
            {
                failures.Add(e.Error.Message);
            }
        };

        // Nobody reads the changes: the first event fills the channel, the second cannot be handed over.
        var changes = Channel.CreateBounded<ChangeEvent>(1);
        var sub = new Subscriber();
        _owned.Add(engine.Watch("stuck", changes.Writer, sub.Resyncs, P("d/")));
        await sub.NextResyncAsync();
        await Client.ApplyAsync(new KVPair(new PathKey(P("d/1")), Bytes("1")));
        await Eventually.True(() => changes.Reader.Count == 1, "the first change is handed over");
        await Client.ApplyAsync(new KVPair(new PathKey(P("d/2")), Bytes("2")));

        await Eventually.True(
            () =>
            {
                time.Advance(TimeSpan.FromMinutes(10));
                lock (failures)
                {
                    return failures.Exists(m => m.Contains("did not take the event", StringComparison.Ordinal));
                }
            },
            "the delivery timeout runs out on the engine's clock");
    }

    [Fact]
    public async Task PutWithTtl_KeyVanishes_AndTheSubscriberSeesItsDeletion()
    {
        DataSyncEngine engine = Engine(Client);
        var sub = new Subscriber();
        _owned.Add(engine.Watch("ttl", sub.Changes, sub.Resyncs, P("ttl/")));
        await sub.NextResyncAsync();
        await engine.PutAsync(P("ttl/short"), "bye", PutOption.WithTtl(TimeSpan.FromSeconds(1)));
        (await sub.NextChangeAsync()).Changes.Single().ChangeType.Should().Be(ChangeType.Put);

        Task<ChangeEvent> deletion = sub.NextChangeAsync(TimeSpan.FromSeconds(30));
        await AdvanceTimeAsync(TimeSpan.FromSeconds(3));
        IChangeValue deleted = (await deletion).Changes.Single();
        (deleted.Key, deleted.ChangeType).Should().Be((P("ttl/short"), ChangeType.Delete));
        (await Client.ListAsync(new PrefixListOptions(P("ttl/")))).KVPairs.Should().BeEmpty();
    }

    [Fact]
    public async Task ClientLifetimeKeys_VanishWhenTheWritingClientIsDisposed()
    {
        (_, Subscriber sub, IBackendClient writerClient, DataSyncEngine writer) = await LifetimeWatcherAndWriterAsync();
        await writer.PutAsync(P("life/session"), "alive", PutOption.WithClientLifetimeTtl());
        await writer.PutAsync(P("life/durable"), "stays");
        (await sub.NextChangesAsync(2)).Select(c => c.Key).Should().Equal(P("life/session"), P("life/durable"));

        await writer.DisposeAsync();
        await writerClient.DisposeAsync();
        IChangeValue gone = (await sub.NextChangeAsync(TimeSpan.FromSeconds(30))).Changes.Single();
        (gone.Key, gone.ChangeType).Should().Be((P("life/session"), ChangeType.Delete));
        (await Client.ListAsync(new PrefixListOptions(P("life/")))).KVPairs.Select(p => p.Key.DefaultPath).Should().Equal(P("life/durable"));
    }

    [Fact]
    public async Task ClientLifetimeKeys_RewrittenWithAPlainPut_SurviveTheWritingClient()
    {
        (DataSyncEngine watcher, Subscriber sub, IBackendClient writerClient, DataSyncEngine writer) = await LifetimeWatcherAndWriterAsync();
        await writer.PutAsync(P("life/rewritten"), "session", PutOption.WithClientLifetimeTtl());
        await writer.PutAsync(P("life/rewritten"), "durable");
        await writer.PutAsync(P("life/taken"), "session", PutOption.WithClientLifetimeTtl());
        await watcher.PutAsync(P("life/taken"), "another writer's");
        await writer.PutAsync(P("life/session"), "session", PutOption.WithClientLifetimeTtl());
        (await sub.NextChangesAsync(5)).Select(c => c.Key).Should().Equal(
            P("life/rewritten"), P("life/rewritten"), P("life/taken"), P("life/taken"), P("life/session"));

        await writer.DisposeAsync();
        await writerClient.DisposeAsync();

        // Whatever the dispose deleted comes before a write made after it.
        await watcher.PutAsync(P("life/marker"), "after");
        var seen = new List<(string Key, ChangeType Type)>();
        while (!seen.Contains((P("life/marker"), ChangeType.Put)))
        {
            seen.AddRange((await sub.NextChangeAsync(TimeSpan.FromSeconds(30))).Changes.Select(c => (c.Key, c.ChangeType)));
        }

        seen.Should().Equal([(P("life/session"), ChangeType.Delete), (P("life/marker"), ChangeType.Put)], "the last write decides whether a key lives with its client");
        (await Client.ListAsync(new PrefixListOptions(P("life/")))).KVPairs.Select(p => p.Key.DefaultPath)
            .Should().Equal(P("life/marker"), P("life/rewritten"), P("life/taken"));
    }

    [Fact]
    public async Task DeleteWithPrefix_DeletesTheSubtree_AndReportsWhetherAnythingExisted()
    {
        DataSyncEngine engine = Engine(Client);
        var sub = new Subscriber();
        _owned.Add(engine.Watch("tree", sub.Changes, sub.Resyncs, P("tree/")));
        await sub.NextResyncAsync();
        await engine.PutAsync(P("tree/a/1"), 1);
        await engine.PutAsync(P("tree/a/2"), 2);
        await engine.PutAsync(P("tree/b"), 3);
        await sub.NextChangesAsync(3);

        (await engine.DeleteAsync(P("tree/a/"), DeleteOption.WithPrefix())).Should().BeTrue();
        var deleted = new List<string>();
        while (deleted.Count < 2)
        {
            deleted.AddRange((await sub.NextChangeAsync()).Changes.Where(c => c.ChangeType == ChangeType.Delete).Select(c => c.Key));
        }

        deleted.Should().BeEquivalentTo([P("tree/a/1"), P("tree/a/2")]);
        (await engine.DeleteAsync(P("tree/a/"), DeleteOption.WithPrefix())).Should().BeFalse();
        (await Client.ListAsync(new PrefixListOptions(P("tree/")))).KVPairs.Select(p => p.Key.DefaultPath).Should().Equal(P("tree/b"));
    }

    [Fact]
    public async Task CompactionDuringADisconnect_GivesAFreshResyncEqualToTheDatastore()
    {
        var faulty = new FaultyBackend(Client, seed: 1, faultRate: 0);
        DataSyncEngine engine = Engine(faulty);
        await Client.ApplyAsync(new KVPair(new PathKey(P("c/keep")), Bytes("\"1\"")));
        await Client.ApplyAsync(new KVPair(new PathKey(P("c/drop")), Bytes("\"1\"")));
        var sub = new Subscriber();
        _owned.Add(engine.Watch("resync", sub.Changes, sub.Resyncs, P("c/")));
        (await sub.NextResyncAsync()).Values[P("c/")].Should().HaveCount(2);

        faulty.Down = true;
        await Client.ApplyAsync(new KVPair(new PathKey(P("c/keep")), Bytes("\"2\"")));
        await Client.DeleteAsync(new PathKey(P("c/drop")));
        await Client.ApplyAsync(new KVPair(new PathKey(P("c/new")), Bytes("\"3\"")));
        await CompactAsync(Client);
        faulty.Down = false;

        ResyncEvent resync = await WithLogsAsync(sub.NextResyncAsync(TimeSpan.FromSeconds(30)));
        KVPairList actual = await Client.ListAsync(new PrefixListOptions(P("c/")));
        resync.Values[P("c/")].Select(kv => (kv.Key, kv.Revision, kv.GetValue<string>()))
            .Should().Equal(actual.KVPairs.Select(p => (p.Key.DefaultPath, p.Revision!, System.Text.Encoding.UTF8.GetString((byte[])p.Value!).Trim('"'))));

        await engine.PutAsync(P("c/keep"), "4");
        IChangeValue next = (await sub.NextChangeAsync()).Changes.Single();
        next.TryGetPrevValue(out string? prev).Should().BeTrue();
        prev.Should().Be("2", "previous values are rebuilt from the resync");
    }

    [Fact]
    public async Task WritesFoldedIntoAResync_AreAnsweredByItsAcknowledgement_DeletesIncluded()
    {
        var faulty = new FaultyBackend(Client, seed: 1, faultRate: 0);
        DataSyncEngine engine = Engine(faulty);
        var sub = new Subscriber();
        _owned.Add(engine.Watch("fold", sub.Changes, sub.Resyncs, P("f/")));
        await sub.NextResyncAsync();
        await engine.PutAsync(P("f/seen"), "1");
        await sub.NextChangeAsync();

        // While the registration's watch is cut, one key it saw and one it never saw are deleted, and one is created;
        // the compaction makes it relist, so all three writes are folded into the next resync.
        faulty.Down = true;
        await Client.ApplyAsync(new KVPair(new PathKey(P("f/unseen")), Bytes("\"1\"")));
        Task deleteSeen = engine.DeleteAsync(P("f/seen"));
        Task deleteUnseen = engine.DeleteAsync(P("f/unseen"));
        Task put = engine.PutAsync(P("f/new"), "2");
        await StoreHoldsAsync(P("f/"), P("f/new"));
        await CompactAsync(Client);
        faulty.Down = false;

        (await WithLogsAsync(sub.NextResyncAsync(TimeSpan.FromSeconds(30)))).Values[P("f/")].Select(kv => kv.Key).Should().Equal(P("f/new"));
        await Eventually.Within(Task.WhenAll(deleteSeen, deleteUnseen, put), "writes folded into an acknowledged resync are answered by it", TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task UnregisterAndClose_NeverBlock_AndStopOnlyTheirDeliveries()
    {
        DataSyncEngine engine = Engine(Client);
        var sub = new Subscriber();
        var other = new Subscriber();
        IWatchRegistration registration = engine.Watch("main", sub.Changes, sub.Resyncs, P("x/"), P("y/"));
        IWatchRegistration otherRegistration = engine.Watch("other", other.Changes, other.Resyncs, P("x/"));
        _owned.Add(otherRegistration);
        await sub.NextResyncAsync();
        await other.NextResyncAsync();

        registration.Unregister(P("x/"));
        await engine.PutAsync(P("x/1"), 1);
        await engine.PutAsync(P("y/1"), 1);
        (await sub.NextChangeAsync()).Changes.Single().Key.Should().Be(P("y/1"), "x/ was unregistered");
        (await other.NextChangeAsync()).Changes.Single().Key.Should().Be(P("x/1"), "the other registration still gets x/");

        // A subscriber that stops reading must not make Close block.
        sub.Pause();
        await engine.PutAsync(P("x/2"), 2);
        await other.NextChangeAsync();
        Task put = engine.PutAsync(P("y/2"), 2);
        await Eventually.Within(registration.DisposeAsync().AsTask(), "closing never blocks", TimeSpan.FromSeconds(5));
        await Eventually.Within(put, "a writer waiting on a closed registration is let go", TimeSpan.FromSeconds(5));
        await engine.PutAsync(P("x/3"), 3);
        (await other.NextChangeAsync()).Changes.Single().Key.Should().Be(P("x/3"));
        sub.ChangesSeen.Should().NotContain(P("x/3"));
    }

    [Fact]
    public async Task AggregatedClose_ClosesEveryInnerRegistration_AndWatchUndoesOnFailure()
    {
        DataSyncEngine one = Engine(Client);
        DataSyncEngine two = Engine(Client);
        var watchers = new KeyValueWatchers([one, two]);
        var sub = new Subscriber();
        IWatchRegistration aggregate = watchers.Watch("agg", sub.Changes, sub.Resyncs, P("g/"));
        aggregate.Should().BeOfType<AggregatedRegistration>().Which.Registrations.Should().HaveCount(2);
        await sub.NextResyncAsync();
        await sub.NextResyncAsync();
        await aggregate.DisposeAsync();

        // Both names are free again: the inner registrations are really closed.
        IWatchRegistration again1 = one.Watch("agg", null, null, P("g/"));
        IWatchRegistration again2 = two.Watch("agg", null, null, P("g/"));
        await again1.DisposeAsync();

        // "agg" is still taken on two: the aggregate watch fails and undoes the registration it made on one.
        Action clash = () => watchers.Watch("agg", sub.Changes, sub.Resyncs, P("g/"));
        clash.Should().Throw<ArgumentException>();
        one.Watch("agg", null, null, P("g/")).Should().NotBeNull("the partial registration on one was undone");
        await again2.DisposeAsync();
    }

    [Fact]
    public async Task KeyValueWriters_WriteToAll_AndFailWithEveryError()
    {
        DataSyncEngine engine = Engine(Client);
        var broken = new BrokenWriter();
        var writers = new KeyValueWriters([engine, broken, broken]);
        Func<Task> put = () => writers.PutAsync(P("w/1"), "x");
        (await put.Should().ThrowAsync<AggregateException>()).Which.InnerExceptions.Should().HaveCount(2);
        (await Client.GetAsync(new PathKey(P("w/1")))).Value.Should().NotBeNull("the working writer still wrote");
        (await new KeyValueWriters([engine]).DeleteAsync(P("w/1"))).Should().BeTrue();
    }

    [Fact]
    public async Task ProtobufMessages_RoundTrip()
    {
        DataSyncEngine engine = Engine(Client);
        var sub = new Subscriber();
        _owned.Add(engine.Watch("proto", sub.Changes, sub.Resyncs, P("p/")));
        await sub.NextResyncAsync();
        var stamp = new Timestamp { Seconds = 1_700_000_000, Nanos = 42 };
        await engine.PutAsync(P("p/stamp"), stamp);
        (await sub.NextChangeAsync()).Changes.Single().GetValue<Timestamp>().Should().Be(stamp);
        Action wrongType = () => (sub.LastChange!.Changes.Single()).GetValue<Dictionary<string, int>>();
        wrongType.Should().Throw<ValueParseException>();
    }

    private string P(string name) => Prefix + name;

    /// <summary>A watcher of life/ past its first resync, and a writer on a client of its own (the caller disposes both).</summary>
    private async Task<(DataSyncEngine Watcher, Subscriber Sub, IBackendClient WriterClient, DataSyncEngine Writer)> LifetimeWatcherAndWriterAsync()
    {
        DataSyncEngine watcher = Engine(Client);
        var sub = new Subscriber();
        _owned.Add(watcher.Watch("watch", sub.Changes, sub.Resyncs, P("life/")));
        await sub.NextResyncAsync();

        IBackendClient writerClient = await CreateClientAsync();
        return (watcher, sub, writerClient, new DataSyncEngine(writerClient));
    }

    /// <summary>Awaits <paramref name="task"/>; on a timeout, the failure carries what the engine and its syncers logged.</summary>
    private async Task<T> WithLogsAsync<T>(Task<T> task)
    {
        try
        {
            return await task;
        }
        catch (TimeoutException ex)
        {
            string log = string.Join(Environment.NewLine, _logs.GetSnapshot().Select(e => $"{e.Level} {e.Message} {e.Exception?.GetType().Name}: {e.Exception?.Message}"));
            throw new TimeoutException($"{ex.Message}{Environment.NewLine}Log:{Environment.NewLine}{log}", ex);
        }
    }

    /// <summary>Waits until the datastore holds exactly <paramref name="keys"/> under <paramref name="prefix"/>.</summary>
    private async Task StoreHoldsAsync(string prefix, params string[] keys)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!(await Client.ListAsync(new PrefixListOptions(prefix))).KVPairs.Select(p => p.Key.DefaultPath).SequenceEqual(keys))
        {
            if (clock.Elapsed > Eventually.DefaultTimeout)
            {
                throw new TimeoutException($"The datastore does not hold exactly {string.Join(", ", keys)} under {prefix}.");
            }

            await Task.Delay(5);
        }
    }

    private static byte[] Bytes(string text) => System.Text.Encoding.UTF8.GetBytes(text);

    private DataSyncEngine Engine(IBackendClient client, TimeSpan? ackTimeout = null, TimeProvider? time = null, TimeSpan? deliveryTimeout = null)
    {
        var engine = new DataSyncEngine(client, new DataSyncOptions
        {
            AcknowledgementTimeout = ackTimeout ?? TimeSpan.FromSeconds(10),
            DeliveryTimeout = deliveryTimeout ?? DataSyncDefaults.DefaultNotifTimeout,
            TimeProvider = time ?? TimeProvider.System,
            LoggerFactory = FakeLogs.Factory(_logs),
            SyncerOptions = new WatcherSyncerOptions { MinResyncInterval = TimeSpan.FromMilliseconds(10), ListRetryInterval = TimeSpan.FromMilliseconds(50), Backoff = { InitialDelay = TimeSpan.FromMilliseconds(50), MaxDelay = TimeSpan.FromMilliseconds(500) }, LoggerFactory = FakeLogs.Factory(_logs) },
        });
        _owned.Add(engine);
        return engine;
    }

    private sealed class BrokenWriter : IKeyValueWriter
    {
        public Task PutAsync(string key, object value, CancellationToken cancellationToken, params PutOption[] options) => Task.FromException(new DatastoreUnavailableException("broken"));

        public Task<bool> DeleteAsync(string key, CancellationToken cancellationToken, params DeleteOption[] options) => Task.FromException<bool>(new DatastoreUnavailableException("broken"));
    }

    /// <summary>A subscriber that reads its channels in the background and acknowledges what it reads.</summary>
    protected sealed class Subscriber
    {
        private readonly Channel<ChangeEvent> _changes = Channel.CreateBounded<ChangeEvent>(1);
        private readonly Channel<ResyncEvent> _resyncs = Channel.CreateBounded<ResyncEvent>(1);
        private readonly Channel<ChangeEvent> _seenChanges = Channel.CreateUnbounded<ChangeEvent>();
        private readonly Channel<ResyncEvent> _seenResyncs = Channel.CreateUnbounded<ResyncEvent>();
        private readonly List<string> _keys = [];
        private readonly CancellationTokenSource _pause = new();

        public Subscriber()
        {
            _ = Task.Run(() => PumpAsync(_changes.Reader, _seenChanges.Writer, c => { lock (_keys) { _keys.AddRange(c.Changes.Select(v => v.Key)); } }, (e, error) => e.Done(error)));
            _ = Task.Run(() => PumpAsync(_resyncs.Reader, _seenResyncs.Writer, _ => { }, (e, error) => e.Done(error)));
        }

        public ChannelWriter<ChangeEvent> Changes => _changes.Writer;

        public ChannelWriter<ResyncEvent> Resyncs => _resyncs.Writer;

        public Func<object, Exception?> Answer { get; init; } = _ => null;

        public Func<object, bool> NeverDone { get; init; } = _ => false;

        public ChangeEvent? LastChange { get; private set; }

        public IReadOnlyList<string> ChangesSeen
        {
            get
            {
                lock (_keys)
                {
                    return [.. _keys];
                }
            }
        }

        /// <summary>Stops reading the channels, as a stuck subscriber would.</summary>
        public void Pause() => _pause.Cancel();

        public async Task<ChangeEvent> NextChangeAsync(TimeSpan? timeout = null) =>
            LastChange = await Eventually.Within(_seenChanges.Reader.ReadAsync().AsTask(), "a change event arrives", timeout);

        /// <summary>Gathers the next <paramref name="count"/> changes, however they are split into events.</summary>
        public async Task<List<IChangeValue>> NextChangesAsync(int count)
        {
            var changes = new List<IChangeValue>();
            while (changes.Count < count)
            {
                changes.AddRange((await NextChangeAsync()).Changes);
            }

            return changes;
        }

        public Task<ResyncEvent> NextResyncAsync(TimeSpan? timeout = null) =>
            Eventually.Within(_seenResyncs.Reader.ReadAsync().AsTask(), "a resync event arrives", timeout);

        private async Task PumpAsync<T>(ChannelReader<T> reader, ChannelWriter<T> seen, Action<T> note, Action<T, Exception?> done)
            where T : class
        {
            try
            {
                await foreach (T e in reader.ReadAllAsync(_pause.Token))
                {
                    note(e);
                    await seen.WriteAsync(e);
                    if (!NeverDone(e))
                    {
                        done(e, Answer(e));
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Paused.
            }
        }
    }
}
