using FluentAssertions;
using Xunit;

namespace WatcherSync.Testing;

/// <summary>
/// Follower and single-key watch behaviour over a real backend. A backend's test project derives from this class
/// once; every test works under its own <see cref="Prefix"/>.
/// </summary>
public abstract class FollowerContractTests : IAsyncLifetime
{
    protected IBackendClient Client { get; private set; } = null!;

    protected string Prefix { get; } = $"/follow/{Guid.NewGuid():N}/";

    protected abstract Task<IBackendClient> CreateClientAsync();

    public async Task InitializeAsync() => Client = await CreateClientAsync();

    public async Task DisposeAsync() => await Client.DisposeAsync();

    private PathKey Key(string name) => new(Prefix + name);

    private ResourceType[] Resources => [new ResourceType(new PrefixListOptions(Prefix))];

    private static string Text(object? value) => value switch
    {
        string s => s,
        byte[] b => System.Text.Encoding.UTF8.GetString(b),
        _ => value?.ToString() ?? "<null>",
    };

    [Fact]
    public async Task Follower_FollowsChangesThroughTheView()
    {
        await Client.CreateAsync(new KVPair(Key("a"), "keep:1"));
        var log = new FollowerLog
        {
            // Only values starting with "keep" are in the view; the part after '#' is not a change.
            FilterFn = kv => Text(kv.Value).StartsWith("keep", StringComparison.Ordinal),
            EqualsFn = (p, c) => Text(p.Value).Split('#')[0] == Text(c.Value).Split('#')[0],
        };
        using var cts = new CancellationTokenSource();
        Task run = Follower.RunAsync(Client, Resources, log, cts.Token);

        await log.WaitForBatchesAsync(1, "the initial state");
        log.TakeCalls().Should().Equal("new a keep:1", "done");

        await Client.UpdateAsync(new KVPair(Key("a"), "keep:1#noise"));
        await log.WaitForBatchesAsync(2, "an equal update");
        log.TakeCalls().Should().Equal("done");

        await Client.UpdateAsync(new KVPair(Key("a"), "keep:2"));
        await log.WaitForBatchesAsync(3, "a real update");
        log.TakeCalls().Should().Equal("updated a keep:1->keep:2", "done");

        await Client.UpdateAsync(new KVPair(Key("a"), "drop:3"));
        await log.WaitForBatchesAsync(4, "leaving the filter");
        log.TakeCalls().Should().Equal("deleted a keep:2", "done");

        await Client.DeleteAsync(Key("a"));
        await Client.CreateAsync(new KVPair(Key("b"), "drop:1"));
        await Client.CreateAsync(new KVPair(Key("c"), "keep:c"));
        await log.WaitForCallAsync("new c keep:c", "a key passing the filter, after changes that produce no call");
        log.TakeCalls().Should().NotContain(c => c.StartsWith("deleted", StringComparison.Ordinal) || c.Contains(" b ", StringComparison.Ordinal));

        await Client.UpdateAsync(new KVPair(Key("b"), "keep:b"));
        await log.WaitForCallAsync("new b keep:b", "re-entering the filter is New");
        await Client.DeleteAsync(Key("b"));
        await log.WaitForCallAsync("deleted b keep:b", "a delete of an item in the view");

        await cts.CancelAsync();
        Func<Task> cancelled = () => run;
        await cancelled.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task Follower_InitialStateOfTenThousand_TenThousandNewThenOneBatchDone()
    {
        const int Count = 10_000;
        for (int i = 0; i < Count; i++)
        {
            await Client.CreateAsync(new KVPair(Key($"{i:D5}"), $"v{i}"));
        }

        var log = new FollowerLog();
        using var cts = new CancellationTokenSource();
        Task run = Follower.RunAsync(Client, Resources, log, cts.Token);
        await log.WaitForBatchesAsync(1, "the initial state", TimeSpan.FromSeconds(60));
        IReadOnlyList<string> calls = log.TakeCalls();
        calls.Should().HaveCount(Count + 1);
        calls.Take(Count).Should().OnlyContain(c => c.StartsWith("new ", StringComparison.Ordinal));
        calls.Take(Count).Should().BeInAscendingOrder(StringComparer.Ordinal);
        calls[^1].Should().Be("done");
        await cts.CancelAsync();
        await FluentActions.Awaiting(() => run).Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task Follower_CallbackThrows_RunEndsWithThatExceptionAndNoBatchDone()
    {
        await Client.CreateAsync(new KVPair(Key("a"), "1"));
        var log = new FollowerLog();
        using var cts = new CancellationTokenSource();
        Task run = Follower.RunAsync(Client, Resources, log, cts.Token);
        await log.WaitForBatchesAsync(1, "the initial state");
        log.TakeCalls();

        log.ThrowOnNew = new InvalidOperationException("follower bug");
        await Client.CreateAsync(new KVPair(Key("b"), "2"));
        (await FluentActions.Awaiting(() => Eventually.Within(run, "the run ends")).Should().ThrowAsync<InvalidOperationException>())
            .Which.Message.Should().Be("follower bug");
        log.TakeCalls().Should().NotContain("done");
    }

    [Fact]
    public async Task WatchKey_CurrentValueThenChangesNullOnDelete_OtherKeysNeverSeen()
    {
        await Client.CreateAsync(new KVPair(Key("k"), "1"));
        await Client.CreateAsync(new KVPair(Key("k2"), "other"));
        using var cts = new CancellationTokenSource(Eventually.DefaultTimeout);
        await using IAsyncEnumerator<KVPair?> e = Client.WatchKeyAsync(Key("k"), cts.Token).GetAsyncEnumerator(cts.Token);

        (await e.MoveNextAsync()).Should().BeTrue();
        Text(e.Current!.Value).Should().Be("1");

        await Client.UpdateAsync(new KVPair(Key("k2"), "still other"));
        await Client.UpdateAsync(new KVPair(Key("k"), "2"));
        (await e.MoveNextAsync()).Should().BeTrue();
        e.Current!.Key.DefaultPath.Should().Be(Prefix + "k");
        Text(e.Current.Value).Should().Be("2");

        await Client.DeleteAsync(Key("k"));
        (await e.MoveNextAsync()).Should().BeTrue();
        e.Current.Should().BeNull();

        await Client.CreateAsync(new KVPair(Key("k"), "3"));
        (await e.MoveNextAsync()).Should().BeTrue();
        Text(e.Current!.Value).Should().Be("3");
    }

    [Fact]
    public async Task WatchKey_AbsentKey_YieldsNullFirst_AndEndsCleanlyOnCancellation()
    {
        using var cts = new CancellationTokenSource();
        var seen = new List<KVPair?>();
        Task consume = Task.Run(async () =>
        {
            await foreach (KVPair? kv in Client.WatchKeyAsync(Key("absent"), cts.Token))
            {
                lock (seen)
                {
                    seen.Add(kv);
                }
            }
        });

        await Eventually.True(() => { lock (seen) { return seen.Count == 1; } }, "the current (absent) value comes first");
        seen[0].Should().BeNull();
        await cts.CancelAsync();
        await Eventually.Within(consume, "the enumeration ends on cancellation without an error");
    }

    [Fact]
    public async Task WatchKey_DisposingTheEnumerator_EndsTheWatch()
    {
        await Client.CreateAsync(new KVPair(Key("d"), "1"));
        IAsyncEnumerator<KVPair?> e = Client.WatchKeyAsync(Key("d")).GetAsyncEnumerator();
        (await e.MoveNextAsync()).Should().BeTrue();
        Text(e.Current!.Value).Should().Be("1");
        await Eventually.Within(e.DisposeAsync().AsTask(), "disposing the enumerator stops the watch");

        // The enumerator is finished: it yields nothing more even though the key changes.
        await Client.UpdateAsync(new KVPair(Key("d"), "2"));
        (await e.MoveNextAsync()).Should().BeFalse();
    }

    /// <summary>A follower that records its calls as text.</summary>
    protected sealed class FollowerLog : IFollower<KVPair>
    {
        private readonly Lock _sync = new();
        private readonly List<string> _calls = [];
        private int _batches;

        public Func<KVPair, bool>? FilterFn { get; init; }

        public Func<KVPair, KVPair, bool>? EqualsFn { get; init; }

        public Exception? ThrowOnNew { get; set; }

        public int Batches => Volatile.Read(ref _batches);

        public bool Filter(KVPair item) => FilterFn?.Invoke(item) ?? true;

        public bool Equals(KVPair previous, KVPair current) => EqualsFn?.Invoke(previous, current) ?? Equals(previous.Value, current.Value);

        public ValueTask NewAsync(KVPair current)
        {
            if (ThrowOnNew is { } error)
            {
                throw error;
            }

            return Add($"new {Name(current)} {Text(current.Value)}");
        }

        public ValueTask UpdatedAsync(KVPair previous, KVPair current) => Add($"updated {Name(current)} {Text(previous.Value)}->{Text(current.Value)}");

        public ValueTask DeletedAsync(KVPair previous) => Add($"deleted {Name(previous)} {Text(previous.Value)}");

        public ValueTask BatchDoneAsync()
        {
            Add("done");
            Interlocked.Increment(ref _batches);
            return ValueTask.CompletedTask;
        }

        public IReadOnlyList<string> TakeCalls()
        {
            lock (_sync)
            {
                List<string> calls = [.. _calls];
                _calls.Clear();
                return calls;
            }
        }

        public Task WaitForBatchesAsync(int count, string because, TimeSpan? timeout = null) =>
            Eventually.True(() => Batches >= count, because, timeout);

        public Task WaitForCallAsync(string call, string because) =>
            Eventually.True(() => { lock (_sync) { return _calls.Contains(call); } }, because);

        private static string Name(KVPair kv) => kv.Key.DefaultPath[(kv.Key.DefaultPath.LastIndexOf('/') + 1)..];

        private ValueTask Add(string call)
        {
            lock (_sync)
            {
                _calls.Add(call);
            }

            return ValueTask.CompletedTask;
        }
    }
}
