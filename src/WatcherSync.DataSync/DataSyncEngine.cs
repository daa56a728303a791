using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace WatcherSync.DataSync;

/// <summary>
/// Watch registrations with acknowledged change and resync events, and writers, over any <see cref="IBackendClient"/>.
/// Each registration lists and watches its prefixes at one revision through a <see cref="WatcherSyncer"/>; it sends
/// a <see cref="ResyncEvent"/> at start and after every relist, then <see cref="ChangeEvent"/>s with previous values,
/// one at a time, each awaited until the subscriber calls <c>Done</c>. Writers of this engine wait for the
/// acknowledgements of its subscribers and fail with their errors or a timeout; failures that no writer hears are
/// reported through <see cref="AcknowledgementFailed"/> and the log.
/// </summary>
public sealed class DataSyncEngine : IKeyValueWatcher, IKeyValueWriter, IAsyncDisposable
{
    private static readonly TimeSpan WriterSlack = TimeSpan.FromSeconds(10);

    private readonly Lock _sync = new();
    private readonly Dictionary<string, WatchRegistration> _registrations = new(StringComparer.Ordinal);
    // Keys this engine wrote with a client lifetime that the backend cannot tie to the client, with the revision of
    // that write: the key is deleted at dispose only if that write is still the last one, as an etcd lease would be
    // detached by any later put.
    private readonly Dictionary<string, long> _lifetimeKeys = new(StringComparer.Ordinal);

    // Client-lifetime puts of untracked keys whose datastore call has not returned: dispose awaits them (completed when
    // the count drops to zero after _disposed is set), so that no such key is written after the dispose looked.
    private readonly TaskCompletionSource _lifetimeWritesDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _lifetimeWritesInFlight;
    private bool _disposed;
    private Task? _disposal;
    private int _runningLoops;

    /// <summary>Creates an engine over <paramref name="client"/>; the caller keeps ownership of the client.</summary>
    public DataSyncEngine(IBackendClient client, DataSyncOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        Client = client;
        Options = options ?? new DataSyncOptions();
        Options.Validate();
        Logger = (Options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<DataSyncEngine>();
    }

    /// <summary>Raised (on a background thread) when a subscriber fails an event, drops it, or does not acknowledge it in time.</summary>
    public event EventHandler<AcknowledgementFailedEventArgs>? AcknowledgementFailed;

    internal IBackendClient Client { get; }

    internal DataSyncOptions Options { get; }

    internal IValueCodec Codec => Options.Codec;

    internal ILogger Logger { get; }

    /// <inheritdoc />
    public IWatchRegistration Watch(string resyncName, ChannelWriter<ChangeEvent>? changes, ChannelWriter<ResyncEvent>? resyncs, params string[] keyPrefixes)
    {
        ArgumentException.ThrowIfNullOrEmpty(resyncName);
        ArgumentNullException.ThrowIfNull(keyPrefixes);
        if (keyPrefixes.Length == 0)
        {
            throw new ArgumentException("At least one key prefix is needed.", nameof(keyPrefixes));
        }

        if (keyPrefixes.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException("Key prefixes cannot be null or empty.", nameof(keyPrefixes));
        }

        if (keyPrefixes.Distinct(StringComparer.Ordinal).Count() != keyPrefixes.Length)
        {
            throw new ArgumentException("A key prefix is given twice.", nameof(keyPrefixes));
        }

        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_registrations.ContainsKey(resyncName))
            {
                throw new ArgumentException($"The resync name '{resyncName}' is already in use.", nameof(resyncName));
            }

            var registration = new WatchRegistration(this, resyncName, changes, resyncs, keyPrefixes);
            _registrations.Add(resyncName, registration);
            return registration;
        }
    }

    /// <inheritdoc />
    public Task PutAsync(string key, object value, params PutOption[] options) => PutAsync(key, value, CancellationToken.None, options);

    /// <inheritdoc />
    public async Task PutAsync(string key, object value, CancellationToken cancellationToken, params PutOption[] options)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        var pair = new KVPair(new PathKey(key), Codec.Encode(value));
        bool clientLifetime = false;
        foreach (PutOption option in options)
        {
            switch (option)
            {
                case PutOption.TtlOption ttl:
                    pair = pair with { Ttl = ttl.Ttl };
                    break;
                case PutOption.ClientLifetimeOption:
                    clientLifetime = true;
                    break;
            }
        }

        // The backend cannot tie keys to a client: this engine deletes them when it is disposed.
        bool tracked = clientLifetime && Client is not IClientLifetimeWriter;
        PendingWriteSet writes = BeginWrites(key, prefix: false, lifetime: tracked);
        KVPair stored;
        long revision;
        try
        {
            stored = clientLifetime && Client is IClientLifetimeWriter lifetimeWriter
                ? await lifetimeWriter.ApplyWithClientLifetimeAsync(pair, cancellationToken).ConfigureAwait(false)
                : await Client.ApplyAsync(pair, cancellationToken).ConfigureAwait(false);
            revision = ParseRevision(stored.Revision);
        }
        catch
        {
            EndWrites(writes, null);
            throw;
        }

        EndWrites(writes, [new WrittenKey(key, revision, Deleted: false)]);
        await WaitForSubscribersAsync(writes, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAsync(string key, params DeleteOption[] options) => DeleteAsync(key, CancellationToken.None, options);

    /// <inheritdoc />
    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken, params DeleteOption[] options)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfDisposed();
        cancellationToken.ThrowIfCancellationRequested();

        bool prefix = options.OfType<DeleteOption.PrefixOption>().Any();
        PendingWriteSet writes = BeginWrites(key, prefix, lifetime: false);
        List<WrittenKey> deleted;
        try
        {
            IReadOnlyList<KVPair> pairs;
            if (prefix)
            {
                pairs = Client is IPrefixDeleter prefixDeleter
                    ? await prefixDeleter.DeletePrefixAsync(key, cancellationToken).ConfigureAwait(false)
                    : await DeleteEachAsync(key, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                try
                {
                    pairs = [await Client.DeleteAsync(new PathKey(key), revision: null, cancellationToken).ConfigureAwait(false)];
                }
                catch (ResourceNotFoundException)
                {
                    pairs = [];
                }
            }

            // A deletion is answered by the first acknowledged change after the revision the key had.
            deleted = pairs.Select(p => new WrittenKey(p.Key.DefaultPath, ParseRevision(p.Revision), Deleted: true)).ToList();
        }
        catch
        {
            EndWrites(writes, null);
            throw;
        }

        EndWrites(writes, deleted);
        await WaitForSubscribersAsync(writes, cancellationToken).ConfigureAwait(false);
        return deleted.Count > 0;
    }

    /// <summary>
    /// Closes every registration and deletes the keys this engine wrote with a client lifetime that the backend could not
    /// tie to the client, unless a later write (by anyone) has replaced that one: as on etcd, the last write decides.
    /// Such a put still in flight is awaited first, so that its key is deleted too.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        Task? running;
        TaskCompletionSource? disposal = null;
        WatchRegistration[] registrations = [];
        Task lifetimeWrites = Task.CompletedTask;
        lock (_sync)
        {
            running = _disposal;
            if (running is null)
            {
                _disposed = true;
                disposal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _disposal = disposal.Task;
                registrations = [.. _registrations.Values];
                lifetimeWrites = _lifetimeWritesInFlight == 0 ? Task.CompletedTask : _lifetimeWritesDone.Task;
            }
        }

        if (running is not null)
        {
            // Disposed already, or being disposed: done when the first dispose is.
            await running.ConfigureAwait(false);
            return;
        }

        try
        {
            await DisposeCoreAsync(registrations, lifetimeWrites).ConfigureAwait(false);
            disposal!.SetResult();
        }
        catch (Exception ex)
        {
            disposal!.SetException(ex);
            throw;
        }
    }

    private async Task DisposeCoreAsync(WatchRegistration[] registrations, Task lifetimeWrites)
    {
        foreach (WatchRegistration registration in registrations)
        {
            await registration.DisposeAsync().ConfigureAwait(false);
        }

        await lifetimeWrites.ConfigureAwait(false);
        KeyValuePair<string, long>[] lifetimeKeys;
        lock (_sync)
        {
            lifetimeKeys = [.. _lifetimeKeys];
            _lifetimeKeys.Clear();
        }

        foreach ((string key, long revision) in lifetimeKeys)
        {
            try
            {
                // Only while the client-lifetime write is still the last one: a later write by anyone decides.
                await Client.DeleteAsync(new PathKey(key), revision.ToString(CultureInfo.InvariantCulture)).ConfigureAwait(false);
            }
            catch (ResourceNotFoundException)
            {
                // Already gone.
            }
            catch (ResourceUpdateConflictException)
            {
                // Written again since: no longer this client's key.
            }
#pragma warning disable CA1031 // Best effort at dispose: logged, never thrown.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                DataSyncLog.LifetimeKeyDeleteFailed(Logger, key, ex);
            }
        }
    }

    /// <summary>Gets how many delivery loops of this engine's registrations are running.</summary>
    internal int RunningLoops => Volatile.Read(ref _runningLoops);

    internal void LoopStarted() => Interlocked.Increment(ref _runningLoops);

    internal void LoopEnded() => Interlocked.Decrement(ref _runningLoops);

    internal void Remove(WatchRegistration registration)
    {
        lock (_sync)
        {
            if (_registrations.TryGetValue(registration.Name, out WatchRegistration? current) && ReferenceEquals(current, registration))
            {
                _registrations.Remove(registration.Name);
            }
        }
    }

    internal void ReportFailure(DataSyncAcknowledgementException error, IReadOnlyList<string> keys)
    {
        DataSyncLog.AcknowledgementFailed(Logger, error.Registration, error.Message, error.InnerException);
        try
        {
            AcknowledgementFailed?.Invoke(this, new AcknowledgementFailedEventArgs(error, keys));
        }
#pragma warning disable CA1031 // A handler that throws must not stop deliveries.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            DataSyncLog.HandlerFailed(Logger, ex);
        }
    }

    private async Task<IReadOnlyList<KVPair>> DeleteEachAsync(string prefix, CancellationToken cancellationToken)
    {
        var deleted = new List<KVPair>();
        KVPairList list = await Client.ListAsync(new PrefixListOptions(prefix), revision: null, cancellationToken).ConfigureAwait(false);
        foreach (KVPair pair in list.KVPairs)
        {
            try
            {
                deleted.Add(await Client.DeleteAsync(pair.Key, revision: null, cancellationToken).ConfigureAwait(false));
            }
            catch (ResourceNotFoundException)
            {
                // Deleted meanwhile by someone else.
            }
        }

        return deleted;
    }

    /// <summary>
    /// Registers a write about to be made with every registration that delivers changes of its key (or of keys under
    /// it), so that no acknowledgement that answers it can be missed, however soon it comes.
    /// </summary>
    private PendingWriteSet BeginWrites(string key, bool prefix, bool lifetime)
    {
        var writes = new List<(WatchRegistration, PendingWrite)>();
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            foreach (WatchRegistration registration in _registrations.Values)
            {
                if (prefix ? registration.DeliversChangesUnder(key) : registration.DeliversChangesFor(key))
                {
                    writes.Add((registration, registration.Writes.Begin(key, prefix)));
                }
            }

            if (lifetime)
            {
                _lifetimeWritesInFlight++;
            }
        }

        return new PendingWriteSet(writes, lifetime);
    }

    /// <summary>The datastore call of <paramref name="writes"/> returned <paramref name="written"/>, or failed (null).</summary>
    private void EndWrites(PendingWriteSet writes, IReadOnlyList<WrittenKey>? written)
    {
        foreach ((WatchRegistration registration, PendingWrite write) in writes.Writes)
        {
            if (written is null)
            {
                registration.Writes.Abandon(write);
            }
            else
            {
                registration.Writes.Resolve(write, written.Where(k => registration.DeliversChangesFor(k.Key)).ToList());
            }
        }

        lock (_sync)
        {
            foreach (WrittenKey key in written ?? [])
            {
                if (key.Deleted)
                {
                    _lifetimeKeys.Remove(key.Key);
                }
                else
                {
                    NoteLifetimeWriteLocked(key.Key, key.Revision, writes.Lifetime);
                }
            }

            if (writes.Lifetime && --_lifetimeWritesInFlight == 0 && _disposed)
            {
                _lifetimeWritesDone.TrySetResult();
            }
        }
    }

    /// <summary>Waits until every registration that delivers changes of the write has answered it; throws their errors, or a timeout.</summary>
    /// <summary>
    /// Waits for every subscriber's acknowledgement of <paramref name="writes"/>, within the delivery and acknowledgement
    /// timeouts. Cancelling ends the wait only: the write is made, and its acknowledgement is still matched when it comes.
    /// </summary>
    private async Task WaitForSubscribersAsync(PendingWriteSet writes, CancellationToken cancellationToken)
    {
        if (writes.Writes.Count == 0)
        {
            return;
        }

        Task<Exception?>[] waits = writes.Writes.Select(w => w.Write.Completion).ToArray();
        TimeSpan limit = Options.DeliveryTimeout + Options.AcknowledgementTimeout + WriterSlack;
        try
        {
            await Task.WhenAll(waits).WaitAsync(limit, Options.TimeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new DataSyncAcknowledgementException(
                string.Join(", ", writes.Writes.Select(w => w.Registration.Name).Distinct(StringComparer.Ordinal)),
                $"The change was not acknowledged by every subscriber within {limit.TotalSeconds:0.###} s.",
                timedOut: true);
        }

        List<Exception> errors = waits.Select(w => w.Result).OfType<Exception>().ToList();
        if (errors.Count == 1)
        {
            throw errors[0];
        }

        if (errors.Count > 1)
        {
            throw new AggregateException("Several subscribers failed the change.", errors);
        }
    }

    /// <summary>
    /// Records a put of <paramref name="key"/> at <paramref name="revision"/>: a client-lifetime write this engine has to
    /// undo at dispose when <paramref name="tracked"/>, otherwise a write that releases the key from any earlier one.
    /// </summary>
    private void NoteLifetimeWriteLocked(string key, long revision, bool tracked)
    {
        if (_lifetimeKeys.TryGetValue(key, out long known) && known > revision)
        {
            // Overlapping puts can complete out of order: the later revision has already decided.
            return;
        }

        if (tracked)
        {
            _lifetimeKeys[key] = revision;
        }
        else
        {
            _lifetimeKeys.Remove(key);
        }
    }

    private static long ParseRevision(string? revision) =>
        long.TryParse(revision, NumberStyles.None, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw new InvalidOperationException($"The backend returned '{revision}', which is not a numeric revision; DataSync needs one.");

    private void ThrowIfDisposed()
    {
        lock (_sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
        }
    }

    /// <summary>One write as every registration that delivers it awaits it.</summary>
    private sealed record PendingWriteSet(List<(WatchRegistration Registration, PendingWrite Write)> Writes, bool Lifetime);
}
