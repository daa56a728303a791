using System.Collections.Concurrent;
using System.Threading.Channels;

namespace WatcherSync.Testing;

/// <summary>
/// A backend whose lists and watches a test scripts, per list prefix. A list or watch call with nothing scripted
/// waits until the test scripts something (or the call is cancelled). Every call is recorded.
/// </summary>
public sealed class ScriptedBackend : IBackendClient
{
    private readonly ConcurrentDictionary<string, Script> _scripts = new(StringComparer.Ordinal);

    /// <summary>Gets the script for the resource whose list prefix is <paramref name="prefix"/>.</summary>
    public Script For(string prefix) => _scripts.GetOrAdd(prefix, static p => new Script(p));

    public Task<KVPair> CreateAsync(KVPair kv, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<KVPair> UpdateAsync(KVPair kv, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<KVPair> ApplyAsync(KVPair kv, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<KVPair> DeleteAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Task<KVPair> GetAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public async Task<KVPairList> ListAsync(IListOptions list, string? revision = null, CancellationToken cancellationToken = default)
    {
        Script script = For(list.DefaultPathRoot);
        Interlocked.Increment(ref script.ListCallCount);
        Func<KVPairList> step = await script.Lists.Reader.ReadAsync(cancellationToken);
        return step();
    }

    public async Task<IWatch> WatchAsync(IListOptions list, WatchOptions options, CancellationToken cancellationToken = default)
    {
        Script script = For(list.DefaultPathRoot);
        script.WatchRevisions.Enqueue(options.Revision);
        Func<IWatch> step = await script.Watches.Reader.ReadAsync(cancellationToken);
        return step();
    }

    /// <summary>Gets or sets the options of the syncers <see cref="CreateSyncer"/> makes.</summary>
    public WatcherSyncerOptions? SyncerOptions { get; set; }

    public ISyncer CreateSyncer(IEnumerable<ResourceType> resourceTypes, ISyncerCallbacks callbacks) => new WatcherSyncer(this, resourceTypes, callbacks, SyncerOptions);

    public Task EnsureInitializedAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public static KVPair Pair(string key, string? value, long revision) => new(new PathKey(key), value, revision.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>What one resource's lists and watches will do.</summary>
    public sealed class Script(string prefix)
    {
        internal readonly Channel<Func<KVPairList>> Lists = Channel.CreateUnbounded<Func<KVPairList>>();
        internal readonly Channel<Func<IWatch>> Watches = Channel.CreateUnbounded<Func<IWatch>>();
        internal int ListCallCount;

        public string Prefix { get; } = prefix;

        /// <summary>Gets how many lists were started (including ones still waiting for a script).</summary>
        public int ListCalls => Volatile.Read(ref ListCallCount);

        /// <summary>Gets the revision each watch call asked for, in order.</summary>
        public ConcurrentQueue<string?> WatchRevisions { get; } = new();

        public void List(long revision, params KVPair[] pairs) =>
            Lists.Writer.TryWrite(() => new KVPairList(pairs, revision.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        public void ListFails(Exception error) => Lists.Writer.TryWrite(() => throw error);

        /// <summary>Scripts a watch that succeeds; the test feeds its events.</summary>
        public ScriptedWatch Watch()
        {
            var watch = new ScriptedWatch();
            Watches.Writer.TryWrite(() => watch);
            return watch;
        }

        public void WatchFails(Exception error) => Watches.Writer.TryWrite(() => throw error);
    }

    /// <summary>A watch whose events the test writes.</summary>
    public sealed class ScriptedWatch : IWatch
    {
        private readonly Channel<WatchEvent> _events = Channel.CreateUnbounded<WatchEvent>();

        public ChannelReader<WatchEvent> Events => _events.Reader;

        public bool Disposed { get; private set; }

        /// <summary>Gets or sets what <see cref="DisposeAsync"/> throws once it has ended the watch (null: nothing).</summary>
        public Exception? DisposeError { get; set; }

        public void Added(string key, string value, long revision) => Send(new WatchEvent(WatchEventType.Added, null, Pair(key, value, revision)));

        public void Modified(string key, string value, long revision) => Send(new WatchEvent(WatchEventType.Modified, null, Pair(key, value, revision)));

        public void Deleted(string key, long revision) => Send(new WatchEvent(WatchEventType.Deleted, null, Pair(key, null, revision)));

        public void Bookmark(long revision) => Send(WatchEvent.Bookmark(revision.ToString(System.Globalization.CultureInfo.InvariantCulture)));

        public void Error(Exception error) => Send(WatchEvent.FromError(error));

        public void Send(WatchEvent watchEvent) => _events.Writer.TryWrite(watchEvent);

        public void End() => _events.Writer.TryComplete();

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            _events.Writer.TryComplete();
            return DisposeError is { } error ? ValueTask.FromException(error) : ValueTask.CompletedTask;
        }
    }
}
