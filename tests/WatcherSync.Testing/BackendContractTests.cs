using System.Text;
using FluentAssertions;
using Xunit;

namespace WatcherSync.Testing;

/// <summary>
/// The rules every <see cref="IBackendClient"/> obeys. A backend's test project derives from this class once, and
/// every test here runs against that backend unchanged. Each test works under its own <see cref="Prefix"/>.
/// </summary>
public abstract class BackendContractTests : IAsyncLifetime
{
    protected IBackendClient Client { get; private set; } = null!;

    /// <summary>A prefix no other test uses.</summary>
    protected string Prefix { get; } = $"/contract/{Guid.NewGuid():N}/";

    /// <summary>Creates the client under test (connected to a fresh or shared datastore).</summary>
    protected abstract Task<IBackendClient> CreateClientAsync();

    /// <summary>Compacts the datastore at <paramref name="revision"/>.</summary>
    protected abstract Task CompactAsync(string revision);

    /// <summary>Lets at least <paramref name="elapsed"/> of datastore time pass (advance a fake clock, or nothing).</summary>
    protected abstract Task AdvanceTimeAsync(TimeSpan elapsed);

    public async Task InitializeAsync() => Client = await CreateClientAsync();

    public async Task DisposeAsync() => await Client.DisposeAsync();

    protected PathKey Key(string name) => new(Prefix + name);

    protected static string? Text(object? value) => value switch
    {
        null => null,
        string s => s,
        byte[] b => Encoding.UTF8.GetString(b),
        _ => value.ToString(),
    };

    protected static long Rev(string? revision) => long.Parse(revision!, System.Globalization.CultureInfo.InvariantCulture);

    // ---- Create / Update / Apply ----

    [Fact]
    public async Task Create_NewKey_StoresValueWithRevision()
    {
        KVPair created = await Client.CreateAsync(new KVPair(Key("a"), "1"));
        created.Revision.Should().NotBeNullOrEmpty();
        KVPair read = await Client.GetAsync(Key("a"));
        Text(read.Value).Should().Be("1");
        read.Revision.Should().Be(created.Revision);
        read.Key.DefaultPath.Should().Be(Prefix + "a");
    }

    [Fact]
    public async Task Create_ExistingKey_ThrowsAlreadyExists()
    {
        await Client.CreateAsync(new KVPair(Key("a"), "1"));
        Func<Task> act = () => Client.CreateAsync(new KVPair(Key("a"), "2"));
        (await act.Should().ThrowAsync<ResourceAlreadyExistsException>()).Which.IsTransient.Should().BeFalse();
        Text((await Client.GetAsync(Key("a"))).Value).Should().Be("1");
    }

    [Fact]
    public async Task Create_AfterDelete_Succeeds()
    {
        await Client.CreateAsync(new KVPair(Key("a"), "1"));
        await Client.DeleteAsync(Key("a"));
        KVPair again = await Client.CreateAsync(new KVPair(Key("a"), "2"));
        Text((await Client.GetAsync(Key("a"))).Value).Should().Be("2");
        again.Revision.Should().NotBeNull();
    }

    [Fact]
    public async Task Update_MissingKey_ThrowsNotFound()
    {
        Func<Task> act = () => Client.UpdateAsync(new KVPair(Key("missing"), "1"));
        await act.Should().ThrowAsync<ResourceNotFoundException>();
    }

    [Fact]
    public async Task Update_WithoutRevision_OverwritesAndAdvancesRevision()
    {
        KVPair created = await Client.CreateAsync(new KVPair(Key("a"), "1"));
        KVPair updated = await Client.UpdateAsync(new KVPair(Key("a"), "2"));
        Rev(updated.Revision).Should().BeGreaterThan(Rev(created.Revision));
        Text((await Client.GetAsync(Key("a"))).Value).Should().Be("2");
    }

    [Fact]
    public async Task Update_WithCurrentRevision_Succeeds()
    {
        KVPair created = await Client.CreateAsync(new KVPair(Key("a"), "1"));
        KVPair updated = await Client.UpdateAsync(new KVPair(Key("a"), "2", created.Revision));
        Text((await Client.GetAsync(Key("a"))).Value).Should().Be("2");
        updated.Revision.Should().NotBe(created.Revision);
    }

    [Fact]
    public async Task Update_WithStaleRevision_ThrowsConflict()
    {
        KVPair created = await Client.CreateAsync(new KVPair(Key("a"), "1"));
        await Client.UpdateAsync(new KVPair(Key("a"), "2"));
        Func<Task> act = () => Client.UpdateAsync(new KVPair(Key("a"), "3", created.Revision));
        (await act.Should().ThrowAsync<ResourceUpdateConflictException>()).Which.IsTransient.Should().BeFalse();
        Text((await Client.GetAsync(Key("a"))).Value).Should().Be("2");
    }

    [Fact]
    public async Task Apply_CreatesThenUpdates()
    {
        KVPair first = await Client.ApplyAsync(new KVPair(Key("a"), "1"));
        KVPair second = await Client.ApplyAsync(new KVPair(Key("a"), "2"));
        Rev(second.Revision).Should().BeGreaterThan(Rev(first.Revision));
        Text((await Client.GetAsync(Key("a"))).Value).Should().Be("2");
    }

    [Fact]
    public async Task Apply_WithStaleRevision_ThrowsConflict()
    {
        KVPair created = await Client.ApplyAsync(new KVPair(Key("a"), "1"));
        await Client.ApplyAsync(new KVPair(Key("a"), "2"));
        Func<Task> act = () => Client.ApplyAsync(new KVPair(Key("a"), "3", created.Revision));
        await act.Should().ThrowAsync<ResourceUpdateConflictException>();
    }

    [Fact]
    public async Task Apply_WithRevisionOnMissingKey_ThrowsConflict()
    {
        KVPair other = await Client.ApplyAsync(new KVPair(Key("other"), "1"));
        Func<Task> act = () => Client.ApplyAsync(new KVPair(Key("missing"), "3", other.Revision));
        await act.Should().ThrowAsync<ResourceUpdateConflictException>();
    }

    // ---- Delete ----

    [Fact]
    public async Task Delete_ExistingKey_ReturnsPreviousValueAndRemovesIt()
    {
        await Client.CreateAsync(new KVPair(Key("a"), "1"));
        KVPair deleted = await Client.DeleteAsync(Key("a"));
        Text(deleted.Value).Should().Be("1");
        Func<Task> get = () => Client.GetAsync(Key("a"));
        await get.Should().ThrowAsync<ResourceNotFoundException>();
    }

    [Fact]
    public async Task Delete_MissingKey_ThrowsNotFound()
    {
        Func<Task> act = () => Client.DeleteAsync(Key("missing"));
        await act.Should().ThrowAsync<ResourceNotFoundException>();
    }

    [Fact]
    public async Task Delete_WithStaleRevision_ThrowsConflictAndKeepsKey()
    {
        KVPair created = await Client.CreateAsync(new KVPair(Key("a"), "1"));
        await Client.UpdateAsync(new KVPair(Key("a"), "2"));
        Func<Task> act = () => Client.DeleteAsync(Key("a"), created.Revision);
        await act.Should().ThrowAsync<ResourceUpdateConflictException>();
        Text((await Client.GetAsync(Key("a"))).Value).Should().Be("2");
    }

    [Fact]
    public async Task Delete_WithCurrentRevision_Deletes()
    {
        KVPair created = await Client.CreateAsync(new KVPair(Key("a"), "1"));
        await Client.DeleteAsync(Key("a"), created.Revision);
        Func<Task> get = () => Client.GetAsync(Key("a"));
        await get.Should().ThrowAsync<ResourceNotFoundException>();
    }

    // ---- Get / List ----

    [Fact]
    public async Task Get_MissingKey_ThrowsNotFound()
    {
        Func<Task> act = () => Client.GetAsync(Key("missing"));
        await act.Should().ThrowAsync<ResourceNotFoundException>();
    }

    [Fact]
    public async Task Get_AtPastRevision_ReturnsValueOfThatRevision()
    {
        KVPair v1 = await Client.CreateAsync(new KVPair(Key("a"), "1"));
        await Client.UpdateAsync(new KVPair(Key("a"), "2"));
        KVPair old = await Client.GetAsync(Key("a"), v1.Revision);
        Text(old.Value).Should().Be("1");
        old.Revision.Should().Be(v1.Revision);
    }

    [Fact]
    public async Task Get_AtRevisionBeforeCreation_ThrowsNotFound()
    {
        KVPair other = await Client.CreateAsync(new KVPair(Key("other"), "x"));
        await Client.CreateAsync(new KVPair(Key("a"), "1"));
        Func<Task> act = () => Client.GetAsync(Key("a"), other.Revision);
        await act.Should().ThrowAsync<ResourceNotFoundException>();
    }

    [Fact]
    public async Task List_ReturnsOnlyKeysUnderPrefix_InKeyOrder()
    {
        await Client.CreateAsync(new KVPair(Key("b"), "2"));
        await Client.CreateAsync(new KVPair(Key("a"), "1"));
        await Client.CreateAsync(new KVPair(Key("c/d"), "3"));
        await Client.CreateAsync(new KVPair(new PathKey(Prefix.TrimEnd('/') + "-sibling/x"), "no"));
        KVPairList list = await Client.ListAsync(new PrefixListOptions(Prefix));
        list.KVPairs.Select(p => p.Key.DefaultPath).Should().Equal(Prefix + "a", Prefix + "b", Prefix + "c/d");
        list.KVPairs.Select(p => Text(p.Value)).Should().Equal("1", "2", "3");
        list.KVPairs.Should().OnlyContain(p => Rev(p.Revision) <= Rev(list.Revision));
    }

    [Fact]
    public async Task List_KeysBeyondTheBasicPlane_AreOrderedByTheirUtf8Bytes()
    {
        string[] names = ["\uFFFD", "\U0001F600", "a", "\u00E9", "\uE000x", "\U0001F600a"];
        foreach (string name in names)
        {
            await Client.ApplyAsync(new KVPair(Key(name), name));
        }

        KVPairList list = await Client.ListAsync(new PrefixListOptions(Prefix));
        string[] byUtf8 = [.. names.Select(n => Prefix + n).Order(Comparer<string>.Create(static (x, y) => System.Text.Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(System.Text.Encoding.UTF8.GetBytes(y))))];
        list.KVPairs.Select(p => p.Key.DefaultPath).Should().Equal(byUtf8, "etcd orders keys by their bytes: U+FFFD before U+1F600, unlike UTF-16");
        (await Client.ListAsync(new PrefixListOptions(Prefix + "\U0001F600"))).KVPairs.Should().HaveCount(2, "a prefix range holds exactly the keys that start with it");
    }

    [Fact]
    public async Task Write_KeyWithALoneSurrogate_IsRefusedNotStoredUnderAnotherKey()
    {
        // A lone surrogate has no UTF-8 form: encoded, it becomes U+FFFD, so the key would alias "\uFFFD" on etcd and
        // sort apart from it in memory. Bad input gets a clear exception, on every backend alike.
        await Client.ApplyAsync(new KVPair(Key("\uFFFD"), "replacement character"));
        Func<Task> write = () => Client.ApplyAsync(new KVPair(Key("\uD800"), "lone high surrogate"));
        await write.Should().ThrowAsync<ArgumentException>("a key that is not valid UTF-16 cannot be stored as the UTF-8 etcd orders by");
        (await Client.ListAsync(new PrefixListOptions(Prefix))).KVPairs.Select(p => Text(p.Value)).Should().Equal("replacement character");
    }

    [Fact]
    public async Task List_PrefixEndingInALoneSurrogate_IsRefusedNotReadAsAnotherPrefix()
    {
        // "\uD83D" alone has no UTF-8 form: etcd would be asked for the prefix "\uFFFD" and find nothing, the
        // embedded store finds the keys that start with the surrogate pair. Refused alike, the backends agree.
        await Client.ApplyAsync(new KVPair(Key("\U0001F600"), "grinning face"));
        Func<Task> list = () => Client.ListAsync(new PrefixListOptions(Prefix + "\uD83D"));
        await list.Should().ThrowAsync<ArgumentException>("a prefix that is not valid UTF-16 has no UTF-8 range to list");
    }

    [Fact]
    public async Task List_EmptyPrefixRange_ReturnsNothingWithARevision()
    {
        KVPairList list = await Client.ListAsync(new PrefixListOptions(Prefix));
        list.KVPairs.Should().BeEmpty();
        Rev(list.Revision).Should().BePositive();
    }

    [Fact]
    public async Task List_WithCustomListOptions_FiltersAndParsesKeys()
    {
        await Client.CreateAsync(new KVPair(Key("keep/1"), "1"));
        await Client.CreateAsync(new KVPair(Key("drop/2"), "2"));
        await Client.CreateAsync(new KVPair(Key("keep/3"), "3"));
        var options = new OnlyKeepOptions(Prefix);
        KVPairList list = await Client.ListAsync(options);
        list.KVPairs.Select(p => p.Key).Should().Equal(new NamedKey(Prefix, "keep/1"), new NamedKey(Prefix, "keep/3"));
    }

    [Fact]
    public async Task List_AtPastRevision_ReturnsStateOfThatRevision()
    {
        await Client.CreateAsync(new KVPair(Key("a"), "1"));
        KVPair b = await Client.CreateAsync(new KVPair(Key("b"), "1"));
        await Client.UpdateAsync(new KVPair(Key("a"), "2"));
        await Client.DeleteAsync(Key("b"));
        await Client.CreateAsync(new KVPair(Key("c"), "1"));
        KVPairList past = await Client.ListAsync(new PrefixListOptions(Prefix), b.Revision);
        past.Revision.Should().Be(b.Revision);
        past.KVPairs.Select(p => (p.Key.DefaultPath, Text(p.Value))).Should().Equal((Prefix + "a", "1"), (Prefix + "b", "1"));
    }

    [Fact]
    public async Task ReadsAtCompactedRevision_ThrowRevisionExpired()
    {
        KVPair first = await Client.CreateAsync(new KVPair(Key("a"), "1"));
        KVPair second = await Client.UpdateAsync(new KVPair(Key("a"), "2"));
        await Client.UpdateAsync(new KVPair(Key("a"), "3"));
        await CompactAsync(second.Revision!);

        Func<Task> list = () => Client.ListAsync(new PrefixListOptions(Prefix), first.Revision);
        (await list.Should().ThrowAsync<RevisionExpiredException>()).Which.IsTransient.Should().BeFalse();
        Func<Task> get = () => Client.GetAsync(Key("a"), first.Revision);
        await get.Should().ThrowAsync<RevisionExpiredException>();
        Text((await Client.GetAsync(Key("a"), second.Revision)).Value).Should().Be("2");
        Text((await Client.GetAsync(Key("a"))).Value).Should().Be("3");
    }

    [Fact]
    public async Task ReadsAtFutureRevision_ThrowRevisionTooLarge()
    {
        KVPair kv = await Client.CreateAsync(new KVPair(Key("a"), "1"));
        string future = (Rev(kv.Revision) + 1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        Func<Task> act = () => Client.ListAsync(new PrefixListOptions(Prefix), future);
        await act.Should().ThrowAsync<RevisionTooLargeException>();
    }

    // ---- Watch ----

    [Fact]
    public async Task Watch_DeliversAddedModifiedDeleted_InRevisionOrder()
    {
        KVPairList start = await Client.ListAsync(new PrefixListOptions(Prefix));
        await using IWatch watch = await Client.WatchAsync(new PrefixListOptions(Prefix), new WatchOptions(start.Revision));
        KVPair a1 = await Client.CreateAsync(new KVPair(Key("a"), "1"));
        KVPair a2 = await Client.UpdateAsync(new KVPair(Key("a"), "2"));
        await Client.DeleteAsync(Key("a"));

        List<WatchEvent> events = await ReadAsync(watch, 3);
        events.Select(e => e.Type).Should().Equal(WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted);
        events[0].New!.Revision.Should().Be(a1.Revision);
        Text(events[0].New!.Value).Should().Be("1");
        events[1].New!.Revision.Should().Be(a2.Revision);
        Text(events[1].New!.Value).Should().Be("2");
        Text(events[1].Old?.Value).Should().Be("1", "a modification carries the previous value");
        events[2].New!.Value.Should().BeNull();
        events[2].New!.Key.DefaultPath.Should().Be(Prefix + "a");
        Rev(events[2].Revision).Should().BeGreaterThan(Rev(a2.Revision));
        Text(events[2].Old?.Value).Should().Be("2", "a deletion carries the previous value");
    }

    [Fact]
    public async Task Watch_OnlySeesKeysItCovers()
    {
        KVPairList start = await Client.ListAsync(new PrefixListOptions(Prefix));
        await using IWatch watch = await Client.WatchAsync(new OnlyKeepOptions(Prefix), new WatchOptions(start.Revision));
        await Client.CreateAsync(new KVPair(Key("drop/1"), "x"));
        await Client.CreateAsync(new KVPair(new PathKey(Prefix.TrimEnd('/') + "-other/keep/1"), "x"));
        await Client.CreateAsync(new KVPair(Key("keep/2"), "y"));
        List<WatchEvent> events = await ReadAsync(watch, 1);
        events[0].New!.Key.Should().Be(new NamedKey(Prefix, "keep/2"));
        events[0].New!.Key.Should().BeOfType<NamedKey>();
    }

    [Fact]
    public async Task Watch_FromRevision_ResumesWithoutGapOrDuplicate()
    {
        var revisions = new List<string>();
        for (int i = 0; i < 10; i++)
        {
            revisions.Add((await Client.ApplyAsync(new KVPair(Key($"k{i % 3}"), $"v{i}"))).Revision!);
        }

        await using IWatch watch = await Client.WatchAsync(new PrefixListOptions(Prefix), new WatchOptions(revisions[4]));
        List<WatchEvent> events = await ReadAsync(watch, 5);
        events.Select(e => e.Revision).Should().Equal(revisions.Skip(5));
        events.Select(e => Text(e.New!.Value)).Should().Equal("v5", "v6", "v7", "v8", "v9");

        await Client.ApplyAsync(new KVPair(Key("k0"), "live"));
        (await ReadAsync(watch, 1))[0].New!.Value.Should().Match(v => Text(v) == "live");
    }

    [Fact]
    public async Task Watch_FromCompactedRevision_FailsWithRevisionExpired()
    {
        KVPair first = await Client.CreateAsync(new KVPair(Key("a"), "1"));
        await Client.UpdateAsync(new KVPair(Key("a"), "2"));
        KVPair third = await Client.UpdateAsync(new KVPair(Key("a"), "3"));
        await CompactAsync(third.Revision!);

        Exception error = await WatchErrorAsync(new WatchOptions(first.Revision));
        error.Should().BeOfType<RevisionExpiredException>();
    }

    [Fact]
    public async Task Watch_Dispose_EndsTheEventStream()
    {
        IWatch watch = await Client.WatchAsync(new PrefixListOptions(Prefix), new WatchOptions());
        await watch.DisposeAsync();
        await watch.DisposeAsync();
        bool more = await Eventually.Within(DrainUntilEndAsync(watch), "a disposed watch ends its channel");
        more.Should().BeFalse();
    }

    [Fact]
    public async Task Watch_WithBookmarks_ReportsProgressWhileItsKeysAreQuiet()
    {
        KVPairList start = await Client.ListAsync(new PrefixListOptions(Prefix));
        await using IWatch watch = await Client.WatchAsync(new PrefixListOptions(Prefix + "quiet/"), new WatchOptions(start.Revision, AllowWatchBookmarks: true));
        KVPair elsewhere = await Client.CreateAsync(new KVPair(Key("busy"), "1"));
        WatchEvent? bookmark = null;
        using var cts = new CancellationTokenSource(Eventually.DefaultTimeout);
        while (bookmark is null)
        {
            await AdvanceTimeAsync(TimeSpan.FromSeconds(1));
            Task<bool> wait = watch.Events.WaitToReadAsync(cts.Token).AsTask();
            if (await Task.WhenAny(wait, Task.Delay(200, cts.Token)) != wait)
            {
                continue;
            }

            (await wait).Should().BeTrue();
            while (watch.Events.TryRead(out WatchEvent? e))
            {
                e.Type.Should().Be(WatchEventType.Bookmark, "nothing under the watched prefix changed");
                if (Rev(e.Revision) >= Rev(elsewhere.Revision))
                {
                    bookmark = e;
                }
            }
        }

        bookmark.New!.Value.Should().BeNull();
    }

    [Fact]
    public async Task Ttl_KeyExpires_AndWatchSeesItsDeletion()
    {
        KVPairList start = await Client.ListAsync(new PrefixListOptions(Prefix));
        await using IWatch watch = await Client.WatchAsync(new PrefixListOptions(Prefix), new WatchOptions(start.Revision));
        await Client.CreateAsync(new KVPair(Key("ttl"), "1") { Ttl = TimeSpan.FromSeconds(1) });
        await Client.CreateAsync(new KVPair(Key("forever"), "1"));
        (await ReadAsync(watch, 2)).Select(e => e.Type).Should().Equal(WatchEventType.Added, WatchEventType.Added);

        Task<List<WatchEvent>> deletion = ReadAsync(watch, 1, TimeSpan.FromSeconds(30));
        await AdvanceTimeAsync(TimeSpan.FromSeconds(2));
        List<WatchEvent> events = await deletion;
        events[0].Type.Should().Be(WatchEventType.Deleted);
        events[0].New!.Key.DefaultPath.Should().Be(Prefix + "ttl");
        Func<Task> get = () => Client.GetAsync(Key("ttl"));
        await get.Should().ThrowAsync<ResourceNotFoundException>();
        Text((await Client.GetAsync(Key("forever"))).Value).Should().Be("1");
    }

    [Fact]
    public async Task Ttl_IsOnTheWritesResultOnly_ReadsAndWatchesDoNotReportIt()
    {
        KVPairList start = await Client.ListAsync(new PrefixListOptions(Prefix));
        await using IWatch watch = await Client.WatchAsync(new PrefixListOptions(Prefix), new WatchOptions(start.Revision));
        KVPair written = await Client.CreateAsync(new KVPair(Key("ttl"), "1") { Ttl = TimeSpan.FromMinutes(5) });
        written.Ttl.Should().Be(TimeSpan.FromMinutes(5), "the pair a write returns says what was asked");

        (await Client.GetAsync(Key("ttl"))).Ttl.Should().BeNull("no backend reports a key's lifetime on a read");
        (await Client.ListAsync(new PrefixListOptions(Prefix))).KVPairs.Single().Ttl.Should().BeNull();
        (await ReadAsync(watch, 1))[0].New!.Ttl.Should().BeNull("nor on a watch event");
    }

    [Fact]
    public async Task Concurrency_ManyWriters_EveryWatcherSeesEveryRevisionInOrder()
    {
        const int Writers = 4;
        const int WritesEach = 250;
        KVPairList start = await Client.ListAsync(new PrefixListOptions(Prefix));
        var watches = new List<IWatch>();
        for (int i = 0; i < 3; i++)
        {
            watches.Add(await Client.WatchAsync(new PrefixListOptions(Prefix), new WatchOptions(start.Revision)));
        }

        var written = new System.Collections.Concurrent.ConcurrentBag<string>();
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
        {
            for (int i = 0; i < WritesEach; i++)
            {
                written.Add((await Client.ApplyAsync(new KVPair(Key($"w{w}/k{i % 10}"), $"{i}"))).Revision!);
            }
        })));

        List<long> expected = written.Select(Rev).Order().ToList();
        foreach (IWatch watch in watches)
        {
            List<WatchEvent> events = await ReadAsync(watch, Writers * WritesEach);
            events.Select(e => Rev(e.Revision)).Should().Equal(expected);
            await watch.DisposeAsync();
        }
    }

    // ---- Bad input ----

    [Fact]
    public async Task BadInput_GetsArgumentExceptions()
    {
        Func<Task> nullKey = () => Client.GetAsync(null!);
        await nullKey.Should().ThrowAsync<ArgumentNullException>();
        Func<Task> nullPair = () => Client.CreateAsync(null!);
        await nullPair.Should().ThrowAsync<ArgumentNullException>();
        Func<Task> emptyPath = () => Client.ApplyAsync(new KVPair(new EmptyKey(), "x"));
        await emptyPath.Should().ThrowAsync<ArgumentException>();
        Func<Task> badRevision = () => Client.GetAsync(Key("a"), "not-a-revision");
        await badRevision.Should().ThrowAsync<ArgumentException>();
        Func<Task> badListRevision = () => Client.ListAsync(new PrefixListOptions(Prefix), "-3");
        await badListRevision.Should().ThrowAsync<ArgumentException>();
        Func<Task> badWatchRevision = () => Client.WatchAsync(new PrefixListOptions(Prefix), new WatchOptions("x1"));
        await badWatchRevision.Should().ThrowAsync<ArgumentException>();
        Func<Task> negativeTtl = () => Client.ApplyAsync(new KVPair(Key("a"), "x") { Ttl = TimeSpan.FromSeconds(-1) });
        await negativeTtl.Should().ThrowAsync<ArgumentOutOfRangeException>();
        Func<Task> nullValue = () => Client.ApplyAsync(new KVPair(Key("a"), null));
        await nullValue.Should().ThrowAsync<ArgumentException>();
        Func<Task> nullList = () => Client.ListAsync(null!);
        await nullList.Should().ThrowAsync<ArgumentNullException>();
    }

    [Fact]
    public void PathKey_WithEmptyPath_Throws()
    {
        Action act = () => _ = new PathKey(string.Empty);
        act.Should().Throw<ArgumentException>();
    }

    // ---- helpers ----

    /// <summary>Reads <paramref name="count"/> events that are not bookmarks, failing on an error event or the deadline.</summary>
    protected static Task<List<WatchEvent>> ReadAsync(IWatch watch, int count, TimeSpan? timeout = null) =>
        WatchEvents.ReadAsync(watch, count, timeout);

    /// <summary>Starts a watch that must fail, either at once or with an error event, and returns its error.</summary>
    protected async Task<Exception> WatchErrorAsync(WatchOptions options)
    {
        IWatch watch;
        try
        {
            watch = await Client.WatchAsync(new PrefixListOptions(Prefix), options);
        }
        catch (DatastoreException ex)
        {
            return ex;
        }

        await using (watch)
        {
            using var cts = new CancellationTokenSource(Eventually.DefaultTimeout);
            while (await watch.Events.WaitToReadAsync(cts.Token))
            {
                while (watch.Events.TryRead(out WatchEvent? e))
                {
                    if (e.Type == WatchEventType.Error)
                    {
                        return e.Error!;
                    }

                    e.Type.Should().Be(WatchEventType.Bookmark, "a watch from a compacted revision delivers no changes");
                }
            }
        }

        throw new InvalidOperationException("The watch ended without an error.");
    }

    private static async Task<bool> DrainUntilEndAsync(IWatch watch)
    {
        while (await watch.Events.WaitToReadAsync())
        {
            while (watch.Events.TryRead(out _))
            {
            }
        }

        return false;
    }

    /// <summary>A key type of the test's own, to check that list options parse keys.</summary>
    protected sealed record NamedKey(string Root, string Name) : IKey
    {
        public string DefaultPath => Root + Name;
    }

    /// <summary>Covers only paths under "keep/" below the root, parsed into <see cref="NamedKey"/>.</summary>
    protected sealed class OnlyKeepOptions(string root) : IListOptions
    {
        public string DefaultPathRoot => root;

        public IKey? KeyFromDefaultPath(string path) =>
            path.StartsWith(root + "keep/", StringComparison.Ordinal) ? new NamedKey(root, path[root.Length..]) : null;
    }

    private sealed class EmptyKey : IKey
    {
        public string DefaultPath => string.Empty;
    }
}
