using System.Collections.Immutable;
using System.Globalization;
using CsCheck;
using FluentAssertions;
using Microsoft.Extensions.Time.Testing;
using WatcherSync.InMemory;
using Xunit;

namespace WatcherSync.Tests.InMemory;

/// <summary>
/// The in-memory store against a model of MVCC: every revision's whole state kept as an immutable map. Generated
/// sequences of create, update, apply, delete (with and without compare-and-swap), get and list at any revision,
/// compaction and time-to-live expiry; and, on a history so small that the store compacts by itself, every retained
/// revision read back after every step. A failure is shrunk to a short sequence and printed with a seed; set
/// CsCheck_Seed to that seed to replay it.
/// </summary>
public sealed class InMemoryBackendModelTests
{
    private static readonly string[] Keys = ["/a/1", "/a/2", "/b/1"];
    private static readonly string[] Prefixes = ["/", "/a/", "/b/"];

    private static readonly Gen<Op> GenOp = Gen.Frequency(
        (3, Gen.Select(Gen.Int[0, 2], Gen.Int[0, 3], (k, ttl) => (Op)new Create(Keys[k], ttl))),
        (3, Gen.Select(Gen.Int[0, 2], Gen.Int[0, 2], (k, cas) => (Op)new Update(Keys[k], (Cas)cas))),
        (2, Gen.Select(Gen.Int[0, 2], Gen.Int[0, 3], (k, ttl) => (Op)new Apply(Keys[k], ttl))),
        (2, Gen.Select(Gen.Int[0, 2], Gen.Int[0, 2], (k, cas) => (Op)new Delete(Keys[k], (Cas)cas))),
        (3, Gen.Select(Gen.Int[0, 2], Gen.Int[0, 100], (k, at) => (Op)new Get(Keys[k], at))),
        (3, Gen.Select(Gen.Int[0, 2], Gen.Int[0, 100], (p, at) => (Op)new List(Prefixes[p], at))),
        (1, Gen.Int[0, 100].Select(at => (Op)new Compact(at))),
        (2, Gen.Const((Op)new Tick())));

    [Fact]
    public void Store_UnderAnySequence_BehavesAsTheMvccModel()
    {
        GenOp.Array[0, 50].Sample(
            ops => Run(ops),
            iter: 1000,
            print: ops => string.Join(", ", ops.Select(o => o.ToString())));
    }

    // Writes first (so that they are what shrinks), mostly applies over the three keys, now and then a compaction at
    // a generated revision; the history holds 16-24 events, so a few dozen writes make the store compact by itself.
    private static readonly Gen<(Op[] Ops, int History)> GenSmallHistoryCase =
        from ops in Gen.Frequency(
            (7, Gen.Int[0, 2].Select(k => (Op)new Apply(Keys[k], 0))),
            (3, Gen.Int[0, 2].Select(k => (Op)new Delete(Keys[k], Cas.None))),
            (1, Gen.Int[1, 100].Select(at => (Op)new Compact(at)))).Array[0, 200]
        from history in Gen.Int[16, 24]
        select (ops, history);

    [Fact]
    public void Store_WithASmallHistory_ReadsAtEveryRetainedRevisionAsTheModelAfterEveryStep()
    {
        int selfCompacted = 0;
        int cases = 0;
        GenSmallHistoryCase.Sample(
            c =>
            {
                if (RunSmallHistory(c.Ops, c.History))
                {
                    Interlocked.Increment(ref selfCompacted);
                }

                Interlocked.Increment(ref cases);
            },
            iter: 200,
            print: c => $"history {c.History}: {string.Join(", ", c.Ops.Select(o => o.ToString()))}");

        selfCompacted.Should().BeGreaterThan(cases / 2, "most cases write enough to make the store compact by itself");
    }

    /// <summary>Returns whether the store compacted by itself.</summary>
    private static bool RunSmallHistory(Op[] ops, int history)
    {
        var time = new FakeTimeProvider();
        using var store = new Disposing(new InMemoryBackend(new InMemoryBackendOptions { TimeProvider = time, HistoryCapacity = history }));
        var model = new Model(store.Backend.Revision);
        bool selfCompacted = false;
        for (int i = 0; i < ops.Length; i++)
        {
            Op op = ops[i];
            string value = "v" + i.ToString(CultureInfo.InvariantCulture);
            switch (op)
            {
                case Apply a:
                    Expect(() => store.Backend.ApplyAsync(Pair(a.Key, value, null, 0)), model.Apply(a.Key, value, 0, time), op);
                    break;
                case Delete d:
                    Expect(() => store.Backend.DeleteAsync(new PathKey(d.Key)), model.Delete(d.Key, Cas.None), op);
                    break;
                case Compact c when model.Revision > 0:
                    long at = model.PickRevision(c.At);
                    Observe(() => store.Backend.Compact(at)).Should().Be(model.Compact(at), $"{op} at {at}");
                    break;
            }

            // A full history compacts its oldest part by itself: the model follows, so that reads below that point
            // must fail from now on, and every read at or above it must stay exact.
            long compacted = store.Backend.CompactRevision;
            compacted.Should().BeLessThanOrEqualTo(model.Revision, $"the store never compacts its current revision away (after {op})");
            compacted.Should().BeGreaterThanOrEqualTo(model.Compacted, $"compaction never goes back (after {op})");
            if (compacted > model.Compacted)
            {
                selfCompacted |= op is not Compact;
                model.Compact(compacted);
            }

            for (long revision = Math.Max(1, compacted - 1); revision <= model.Revision; revision++)
            {
                ExpectList(store.Backend, "/", revision, model, op);
                foreach (string key in Keys)
                {
                    Expect(() => store.Backend.GetAsync(new PathKey(key), Revisions(revision)), model.Get(key, revision), op);
                }
            }
        }

        return selfCompacted;
    }

    private static void Run(Op[] ops)
    {
        var time = new FakeTimeProvider();
        using var store = new Disposing(new InMemoryBackend(new InMemoryBackendOptions { TimeProvider = time }));
        var model = new Model(store.Backend.Revision);
        int written = 0;
        foreach (Op op in ops)
        {
            string value = "v" + written++.ToString(CultureInfo.InvariantCulture);
            switch (op)
            {
                case Create c:
                    Expect(() => store.Backend.CreateAsync(Pair(c.Key, value, null, c.TtlSeconds)), model.Create(c.Key, value, c.TtlSeconds, time), op);
                    break;
                case Update u:
                    string? updateCas = model.CasRevision(u.Key, u.Cas);
                    Expect(() => store.Backend.UpdateAsync(Pair(u.Key, value, updateCas, 0)), model.Update(u.Key, value, u.Cas), op);
                    break;
                case Apply a:
                    Expect(() => store.Backend.ApplyAsync(Pair(a.Key, value, null, a.TtlSeconds)), model.Apply(a.Key, value, a.TtlSeconds, time), op);
                    break;
                case Delete d:
                    string? deleteCas = model.CasRevision(d.Key, d.Cas);
                    Expect(() => store.Backend.DeleteAsync(new PathKey(d.Key), deleteCas), model.Delete(d.Key, d.Cas), op);
                    break;
                case Get g:
                    long getAt = model.PickRevision(g.At);
                    Expect(() => store.Backend.GetAsync(new PathKey(g.Key), Revisions(getAt)), model.Get(g.Key, getAt), op);
                    break;
                case List l:
                    long listAt = model.PickRevision(l.At);
                    ExpectList(store.Backend, l.Prefix, listAt, model, op);
                    break;
                case Compact c when model.Revision > 0:
                    long compactAt = model.PickRevision(c.At) is > 0 and var picked ? picked : model.Revision;
                    Outcome expected = model.Compact(compactAt);
                    Outcome actual = Observe(() => store.Backend.Compact(compactAt));
                    actual.Should().Be(expected, $"{op} at {compactAt}");
                    break;
                case Tick:
                    time.Advance(TimeSpan.FromSeconds(1));
                    model.Expire(time);
                    break;
            }

            store.Backend.Revision.Should().Be(model.Revision, $"after {op}");
        }
    }

    private static KVPair Pair(string key, string value, string? revision, int ttlSeconds) =>
        new(new PathKey(key), value, revision) { Ttl = ttlSeconds == 0 ? null : TimeSpan.FromSeconds(ttlSeconds) };

    private static string? Revisions(long at) => at == 0 ? null : at.ToString(CultureInfo.InvariantCulture);

    private static void Expect(Func<Task<KVPair>> call, Outcome expected, Op op)
    {
        Outcome actual;
        try
        {
            KVPair pair = call().GetAwaiter().GetResult();
            actual = Outcome.Of(pair);
        }
        catch (DatastoreException ex)
        {
            actual = new Outcome(ex.GetType().Name);
        }

        actual.Should().Be(expected, op.ToString());
    }

    private static void ExpectList(InMemoryBackend store, string prefix, long at, Model model, Op op)
    {
        string actual;
        try
        {
            KVPairList list = store.ListAsync(new PrefixListOptions(prefix), Revisions(at)).GetAwaiter().GetResult();
            actual = list.Revision + ": " + string.Join(", ", list.KVPairs.Select(p => Outcome.Of(p).Text));
        }
        catch (DatastoreException ex)
        {
            actual = ex.GetType().Name;
        }

        actual.Should().Be(model.List(prefix, at), $"{op} at {at}");
    }

    private static Outcome Observe(Action action)
    {
        try
        {
            action();
            return Outcome.Ok;
        }
        catch (DatastoreException ex)
        {
            return new Outcome(ex.GetType().Name);
        }
    }

    /// <summary>What a call gave: the pair (key=value@revision) or the exception's type name.</summary>
    private sealed record Outcome(string Text)
    {
        public static readonly Outcome Ok = new("ok");

        public static Outcome Of(KVPair pair) => new($"{pair.Key.DefaultPath}={pair.Value}@{pair.Revision}");

        public static Outcome Of(string key, Entry entry) => new($"{key}={entry.Value}@{entry.ModRevision.ToString(CultureInfo.InvariantCulture)}");
    }

    private sealed record Entry(string Value, long ModRevision, DateTimeOffset? Deadline);

    /// <summary>MVCC, obviously: the whole state at every revision, and the revision compacted at.</summary>
    private sealed class Model
    {
        private readonly Dictionary<long, ImmutableSortedDictionary<string, Entry>> _states = [];
        private long _compacted;

        public Model(long revision)
        {
            Revision = revision;
            _states[revision] = ImmutableSortedDictionary.Create<string, Entry>(StringComparer.Ordinal);
        }

        public long Revision { get; private set; }

        public long Compacted => _compacted;

        private ImmutableSortedDictionary<string, Entry> Current => _states[Revision];

        /// <summary>0 means the latest; otherwise a revision from 1 to the current one, old ones included.</summary>
        public long PickRevision(int choice) => choice == 0 || Revision == 0 ? 0 : 1 + (choice % Revision);

        public string? CasRevision(string key, Cas cas) => cas switch
        {
            Cas.None => null,
            Cas.Current => Current.TryGetValue(key, out Entry? e) ? e.ModRevision.ToString(CultureInfo.InvariantCulture) : "1",
            _ => (Revision + 1000).ToString(CultureInfo.InvariantCulture),
        };

        public Outcome Create(string key, string value, int ttl, TimeProvider time) =>
            Current.ContainsKey(key) ? new Outcome(nameof(ResourceAlreadyExistsException)) : Write(key, value, ttl, time);

        public Outcome Update(string key, string value, Cas cas)
        {
            if (!Current.TryGetValue(key, out Entry? entry))
            {
                return new Outcome(nameof(ResourceNotFoundException));
            }

            return cas == Cas.Stale ? new Outcome(nameof(ResourceUpdateConflictException)) : Write(key, value, 0, null);
        }

        public Outcome Apply(string key, string value, int ttl, TimeProvider time) => Write(key, value, ttl, time);

        public Outcome Delete(string key, Cas cas)
        {
            if (!Current.TryGetValue(key, out Entry? entry))
            {
                return new Outcome(nameof(ResourceNotFoundException));
            }

            if (cas == Cas.Stale)
            {
                return new Outcome(nameof(ResourceUpdateConflictException));
            }

            Commit(Current.Remove(key));
            return Outcome.Of(key, entry);
        }

        public Outcome Get(string key, long at) =>
            Read(at) is not { } state ? new Outcome(nameof(RevisionExpiredException))
            : state.TryGetValue(key, out Entry? entry) ? Outcome.Of(key, entry)
            : new Outcome(nameof(ResourceNotFoundException));

        public string List(string prefix, long at)
        {
            if (Read(at) is not { } state)
            {
                return nameof(RevisionExpiredException);
            }

            long readAt = at == 0 ? Revision : at;
            return readAt.ToString(CultureInfo.InvariantCulture) + ": " + string.Join(", ", state
                .Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
                .Select(kv => Outcome.Of(kv.Key, kv.Value).Text));
        }

        public Outcome Compact(long revision)
        {
            if (revision <= _compacted)
            {
                return new Outcome(nameof(RevisionExpiredException));
            }

            _compacted = revision;
            return Outcome.Ok;
        }

        /// <summary>Deletes, in one revision, every key whose deadline has come.</summary>
        public void Expire(TimeProvider time)
        {
            DateTimeOffset now = time.GetUtcNow();
            string[] due = [.. Current.Where(kv => kv.Value.Deadline <= now).Select(kv => kv.Key)];
            if (due.Length > 0)
            {
                Commit(Current.RemoveRange(due));
            }
        }

        private ImmutableSortedDictionary<string, Entry>? Read(long at)
        {
            long readAt = at == 0 ? Revision : at;
            return readAt < _compacted ? null : _states[readAt];
        }

        private Outcome Write(string key, string value, int ttl, TimeProvider? time)
        {
            // Every write decides the key's time to live, as a put decides its lease on etcd: none clears it.
            DateTimeOffset? deadline = ttl == 0 ? null : time!.GetUtcNow() + TimeSpan.FromSeconds(ttl);
            var entry = new Entry(value, Revision + 1, deadline);
            Commit(Current.SetItem(key, entry));
            return Outcome.Of(key, entry);
        }

        private void Commit(ImmutableSortedDictionary<string, Entry> state)
        {
            Revision++;
            _states[Revision] = state;
        }
    }

    /// <summary>Disposes the store synchronously at the end of a case (its DisposeAsync completes at once).</summary>
    private sealed class Disposing(InMemoryBackend backend) : IDisposable
    {
        public InMemoryBackend Backend { get; } = backend;

        public void Dispose() => Backend.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    private enum Cas
    {
        None,
        Current,
        Stale,
    }

    private abstract record Op;

    private sealed record Create(string Key, int TtlSeconds) : Op
    {
        public override string ToString() => TtlSeconds == 0 ? $"create {Key}" : $"create {Key} ttl {TtlSeconds}s";
    }

    private sealed record Update(string Key, Cas Cas) : Op
    {
        public override string ToString() => $"update {Key} cas {Cas}";
    }

    private sealed record Apply(string Key, int TtlSeconds) : Op
    {
        public override string ToString() => TtlSeconds == 0 ? $"apply {Key}" : $"apply {Key} ttl {TtlSeconds}s";
    }

    private sealed record Delete(string Key, Cas Cas) : Op
    {
        public override string ToString() => $"delete {Key} cas {Cas}";
    }

    private sealed record Get(string Key, int At) : Op
    {
        public override string ToString() => $"get {Key} #{At}";
    }

    private sealed record List(string Prefix, int At) : Op
    {
        public override string ToString() => $"list {Prefix} #{At}";
    }

    private sealed record Compact(int At) : Op
    {
        public override string ToString() => $"compact #{At}";
    }

    private sealed record Tick : Op
    {
        public override string ToString() => "tick 1s";
    }
}
