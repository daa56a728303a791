using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using WatcherSync.Etcd.Api;
using WatcherSync.Etcd.Api.Mvcc;
using WatcherSync.Etcd.Diagnostics;
using WatcherSync.Etcd.Keys;
using WatcherSync.Etcd.Leasing;
using WatcherSync.Etcd.Listing;
using WatcherSync.Etcd.Transport;
using WatcherSync.Etcd.Watching;

namespace WatcherSync.Etcd;

/// <summary>
/// An <see cref="IBackendClient"/> for etcd v3 over native gRPC: one HTTP/2 connection per endpoint, with every watch
/// of the client multiplexed on one Watch stream. Writes are transactions (create = the key's create revision is 0;
/// compare-and-swap = its mod revision), lists are pinned to one revision, watches resume from the last revision
/// delivered across reconnects and endpoints, and TTLs are leases. Thread-safe.
/// </summary>
public sealed class EtcdBackendClient : IBackendClient, IPrefixDeleter, IClientLifetimeWriter
{
    private readonly EtcdClientOptions _options;
    private readonly ILogger _logger;
    private readonly EtcdMetrics _metrics;
    private readonly EtcdTransport _transport;
    private readonly WatchHub _hub;
    private readonly EtcdConverter _converter;
    private readonly EtcdKeys _keys;
    private readonly ClientLease _clientLease;
    private readonly EtcdListReader _lister;
    private readonly Lock _watchesLock = new();
    private readonly HashSet<EtcdWatch> _watches = [];
    private int _disposed;

    /// <summary>Creates a client; nothing is sent until the first call.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentException">An option is invalid (the message lists every problem).</exception>
    public EtcdBackendClient(EtcdClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("WatcherSync.Etcd");
        _metrics = new EtcdMetrics(options.MeterFactory);
        _transport = new EtcdTransport(options, _logger, _metrics);
        _hub = new WatchHub(_transport, _logger);
        _keys = new EtcdKeys(options.KeyPrefix);
        _converter = new EtcdConverter(_keys, options.Codec, _logger);
        _clientLease = new ClientLease(_transport, options, _logger, OnClientLeaseLost);
        _lister = new EtcdListReader(_transport, _converter, _logger, options.ListPageSize);
    }

    /// <summary>
    /// Raised when etcd says the client lease is gone (the client was cut off for longer than
    /// <see cref="EtcdClientOptions.ClientLeaseTtl"/>, or the lease was revoked): every key written with
    /// <see cref="ApplyWithClientLifetimeAsync"/> until then is gone from etcd. The client does not write them again
    /// (it keeps no copy, and a newer write of another client must not be undone): write them again here if they
    /// should exist. The next client-lifetime write grants a new lease. Also logged (event 3011 or 3016) and counted
    /// (<c>watchersync.etcd.client_lease.lost</c>). Raised on a background thread; a handler must not throw.
    /// </summary>
    public event EventHandler? ClientLeaseLost;

    /// <inheritdoc />
    public Task<KVPair> CreateAsync(KVPair kv, CancellationToken cancellationToken = default) => WriteAsync(kv, WriteMode.Create, clientLease: false, cancellationToken);

    /// <inheritdoc />
    public Task<KVPair> UpdateAsync(KVPair kv, CancellationToken cancellationToken = default) => WriteAsync(kv, WriteMode.Update, clientLease: false, cancellationToken);

    /// <inheritdoc />
    public Task<KVPair> ApplyAsync(KVPair kv, CancellationToken cancellationToken = default) => WriteAsync(kv, WriteMode.Apply, clientLease: false, cancellationToken);

    /// <summary>
    /// Creates or updates a key that lives as long as this client: it is attached to a lease the client keeps alive
    /// and revokes when disposed (or that expires when the client is cut off for longer than
    /// <see cref="EtcdClientOptions.ClientLeaseTtl"/>). <see cref="KVPair.Ttl"/> is ignored. When the lease is gone on
    /// the server, a new one is granted and the write is sent again, once.
    /// </summary>
    /// <exception cref="ResourceUpdateConflictException">The key's revision is not <see cref="KVPair.Revision"/>.</exception>
    public Task<KVPair> ApplyWithClientLifetimeAsync(KVPair kv, CancellationToken cancellationToken = default) => WriteAsync(kv, WriteMode.Apply, clientLease: true, cancellationToken);

    /// <inheritdoc />
    public async Task<KVPair> DeleteAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default)
    {
        string path = ValidateKey(key);
        long expected = Revisions.ParseOptional(revision, nameof(revision));
        ThrowIfDisposed();
        ByteString etcdKey = Wrap(_keys.Encode(path));
        KeyValue? previous;
        if (expected == 0)
        {
            var request = new DeleteRangeRequest { Key = etcdKey, PrevKv = true };
            DeleteRangeResponse reply = await _transport.CallAsync(
                "delete", (c, o) => c.KV.DeleteRangeAsync(request, o).ResponseAsync, idempotent: false, cancellationToken).ConfigureAwait(false);
            previous = reply.PrevKvs.Count > 0 ? reply.PrevKvs[0] : null;
        }
        else
        {
            TxnResponse reply = await TxnAsync(
                "delete",
                new Compare { Key = etcdKey, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = expected },
                new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = etcdKey, PrevKv = true } },
                new RequestOp { RequestRange = new RangeRequest { Key = etcdKey } },
                cancellationToken).ConfigureAwait(false);
            if (!reply.Succeeded)
            {
                throw MissingOrConflict(path, expected, reply);
            }

            previous = reply.Responses.Count > 0 && reply.Responses[0].ResponseDeleteRange is { PrevKvs.Count: > 0 } deleted ? deleted.PrevKvs[0] : null;
        }

        if (previous is null)
        {
            throw new ResourceNotFoundException($"Key '{path}' does not exist.");
        }

        return new KVPair(key, _converter.Decode(path, previous.Value.Memory), Revisions.Format(previous.ModRevision));
    }

    /// <summary>Deletes every key that starts with <paramref name="prefix"/> in one revision.</summary>
    /// <returns>The pairs deleted, as they were before the delete, in key order; empty when nothing matched.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="prefix"/> is null.</exception>
    public async Task<IReadOnlyList<KVPair>> DeletePrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ThrowIfDisposed();
        (byte[] key, byte[] rangeEnd) = _keys.PrefixRange(prefix);
        var request = new DeleteRangeRequest { Key = Wrap(key), RangeEnd = Wrap(rangeEnd), PrevKv = true };
        DeleteRangeResponse reply = await _transport.CallAsync(
            "delete-prefix", (c, o) => c.KV.DeleteRangeAsync(request, o).ResponseAsync, idempotent: false, cancellationToken).ConfigureAwait(false);
        var deleted = new List<KVPair>(reply.PrevKvs.Count);
        foreach (KeyValue kv in reply.PrevKvs)
        {
            string path = _keys.Decode(kv.Key.Span);
            deleted.Add(new KVPair(new PathKey(path), _converter.DecodeOrInvalid(path, kv.Value.Memory), Revisions.Format(kv.ModRevision)));
        }

        return deleted;
    }

    /// <inheritdoc />
    public async Task<KVPair> GetAsync(IKey key, string? revision = null, CancellationToken cancellationToken = default)
    {
        string path = ValidateKey(key);
        long at = Revisions.ParseOptional(revision, nameof(revision));
        ThrowIfDisposed();
        var request = new RangeRequest { Key = Wrap(_keys.Encode(path)), Revision = at };
        RangeResponse reply = await _transport.CallAsync(
            "get", (c, o) => c.KV.RangeAsync(request, o).ResponseAsync, idempotent: true, cancellationToken).ConfigureAwait(false);
        if (reply.Kvs.Count == 0)
        {
            throw new ResourceNotFoundException(at == 0 ? $"Key '{path}' does not exist." : $"Key '{path}' does not exist at revision {at}.");
        }

        return new KVPair(key, _converter.Decode(path, reply.Kvs[0].Value.Memory), Revisions.Format(reply.Kvs[0].ModRevision));
    }

    /// <inheritdoc />
    /// <remarks>
    /// The list is read in pages (the first of 10,000 keys, then each twice the last, up to
    /// <see cref="EtcdClientOptions.ListPageSize"/>), every page at the revision of the first, so a list of any size is
    /// the state at one revision; the next page is asked for while the last one is decoded. A page larger than the
    /// receive limit is asked for again in halves. A value the codec cannot decode is listed as an
    /// <see cref="InvalidValue"/> (and logged).
    /// </remarks>
    public async Task<KVPairList> ListAsync(IListOptions list, string? revision = null, CancellationToken cancellationToken = default)
    {
        (string prefix, long at) = ValidateList(list, revision);
        List<KVPair>? pairs = null;
        string listed = string.Empty;
        await foreach (ListPage page in _lister.ReadAsync(list, prefix, at, cancellationToken).ConfigureAwait(false))
        {
            if (pairs is null)
            {
                pairs = new List<KVPair>(Math.Max(page.ExpectedCount, page.KVPairs.Count));
            }

            pairs.AddRange(page.KVPairs);
            listed = page.Revision;
        }

        return new KVPairList(pairs ?? [], listed);
    }

    /// <summary>The keys of <see cref="ListAsync"/> in pages, each handed out as soon as it is decoded while the next one is
    /// read (for tests and figures of the read ahead).</summary>
    internal IAsyncEnumerable<ListPage> ListPagesAsync(IListOptions list, string? revision = null, CancellationToken cancellationToken = default)
    {
        (string prefix, long at) = ValidateList(list, revision);
        return _lister.ReadAsync(list, prefix, at, cancellationToken);
    }

    /// <summary>Gets the Range requests of lists: sent so far, and under way now (for tests and figures).</summary>
    internal (long Sent, int InFlight) ListRequests => (_lister.RequestsSent, _lister.RequestsInFlight);

    /// <inheritdoc />
    /// <remarks>
    /// Returns once etcd has created the watch. Every watch of the client shares one Watch stream per endpoint. A
    /// broken stream is rejoined (on the next endpoint) from the last revision delivered for up to
    /// <see cref="EtcdClientOptions.WatchReconnectTimeout"/>, then the watch ends with a transient
    /// <see cref="DatastoreUnavailableException"/>; a compacted start revision ends it with
    /// <see cref="RevisionExpiredException"/>.
    /// </remarks>
    public Task<IWatch> WatchAsync(IListOptions list, WatchOptions options, CancellationToken cancellationToken = default) =>
        WatchAsync(list, options, options?.PreviousValues ?? true, cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// The same as <c>new WatcherSyncer(client, resourceTypes, callbacks, options.SyncerOptions)</c>. Every syncer
    /// watches without previous values (<see cref="WatchOptions.PreviousValues"/>): it never reads them, and each costs
    /// etcd a read per event.
    /// </remarks>
    public ISyncer CreateSyncer(IEnumerable<ResourceType> resourceTypes, ISyncerCallbacks callbacks) =>
        new WatcherSyncer(this, resourceTypes, callbacks, _options.SyncerOptions);

    /// <summary>Watches, with or without the previous value of each changed key.</summary>
    internal async Task<IWatch> WatchAsync(IListOptions list, WatchOptions options, bool previousValues, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(list);
        ArgumentNullException.ThrowIfNull(options);
        _ = list.DefaultPathRoot ?? throw new ArgumentException("The list options have no path root.", nameof(list));
        long after = Revisions.ParseOptional(options.Revision, nameof(options));
        ThrowIfDisposed();
        EtcdWatch watch = await EtcdWatch.StartAsync(_transport, _hub, _converter, _logger, _metrics, list, options, after, previousValues, Forget, cancellationToken).ConfigureAwait(false);
        lock (_watchesLock)
        {
            if (_disposed == 0)
            {
                _watches.Add(watch);
                return watch;
            }
        }

        await watch.DisposeAsync().ConfigureAwait(false);
        throw new ObjectDisposedException(nameof(EtcdBackendClient));
    }

    /// <summary>
    /// Compacts etcd's history at <paramref name="revision"/> (null or "0": the current revision): reads and watches
    /// at older revisions fail with <see cref="RevisionExpiredException"/> from then on.
    /// </summary>
    /// <param name="revision">The revision to compact at.</param>
    /// <param name="physical">Whether to wait until the space is really freed.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="RevisionExpiredException">etcd is already compacted at or past that revision.</exception>
    /// <exception cref="RevisionTooLargeException">The revision is in the future.</exception>
    public async Task CompactAsync(string? revision, bool physical = false, CancellationToken cancellationToken = default)
    {
        long at = Revisions.ParseOptional(revision, nameof(revision));
        ThrowIfDisposed();
        if (at == 0)
        {
            at = await CurrentRevisionAsync(cancellationToken).ConfigureAwait(false);
        }

        var request = new CompactionRequest { Revision = at, Physical = physical };
        await _transport.CallAsync("compact", (c, o) => c.KV.CompactAsync(request, o).ResponseAsync, idempotent: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads etcd's current revision.</summary>
    public async Task<long> CurrentRevisionAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        StatusResponse status = await _transport.CallAsync(
            "status", (c, o) => c.Maintenance.StatusAsync(new StatusRequest(), o).ResponseAsync, idempotent: true, cancellationToken).ConfigureAwait(false);
        return status.Header?.Revision ?? 0;
    }

    /// <inheritdoc />
    /// <remarks>Asks a member for its status (authenticating first when a user is set), so unreachable endpoints and wrong credentials show here.</remarks>
    public async Task EnsureInitializedAsync(CancellationToken cancellationToken = default) =>
        _ = await CurrentRevisionAsync(cancellationToken).ConfigureAwait(false);

    /// <summary>Ends every watch, revokes the client lease (removing the keys written with it) and closes the connections.</summary>
    public async ValueTask DisposeAsync()
    {
        EtcdWatch[] watches;
        lock (_watchesLock)
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            watches = [.. _watches];
        }

        foreach (EtcdWatch watch in watches)
        {
            await watch.DisposeAsync().ConfigureAwait(false);
        }

        await _hub.DisposeAsync().ConfigureAwait(false);
        await _clientLease.DisposeAsync().ConfigureAwait(false);
        _transport.Dispose();
        _metrics.Dispose();
    }

    private async Task<KVPair> WriteAsync(KVPair kv, WriteMode mode, bool clientLease, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(kv);
        string path = ValidateKey(kv.Key);
        if (kv.Value is null)
        {
            throw new ArgumentException($"The value of '{path}' is null: use DeleteAsync to delete a key.", nameof(kv));
        }

        long expected = Revisions.ParseOptional(kv.Revision, nameof(kv));
        if (kv.Ttl is { } ttl)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero, "kv.Ttl");
        }

        ThrowIfDisposed();
        ByteString key = Wrap(_keys.Encode(path));
        ByteString value = Wrap(_options.Codec.Encode(kv.Value));
        if (clientLease)
        {
            long lease = await _clientLease.GetAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await PutAsync(kv, path, key, value, lease, mode, expected, cancellationToken).ConfigureAwait(false);
            }
            catch (ResourceNotFoundException ex) when (EtcdErrors.IsLeaseNotFound(ex))
            {
                // The lease expired or was revoked before the keepalive noticed: grant a new one and write again, once.
                _clientLease.Forget(lease);
                lease = await _clientLease.GetAsync(cancellationToken).ConfigureAwait(false);
                return await PutAsync(kv, path, key, value, lease, mode, expected, cancellationToken).ConfigureAwait(false);
            }
        }

        if (kv.Ttl is not { } timeToLive)
        {
            return await PutAsync(kv, path, key, value, lease: 0, mode, expected, cancellationToken).ConfigureAwait(false);
        }

        long own = await GrantAsync(timeToLive, cancellationToken).ConfigureAwait(false);
        try
        {
            return await PutAsync(kv, path, key, value, own, mode, expected, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (WriteOutcome.CertainlyNotApplied(ex))
        {
            // The write did not happen: do not leave its lease behind. A write whose outcome is unknown keeps its
            // lease (revoking it would delete a key that may have been written); the lease expires with its TTL.
            await ClientLease.RevokeAsync(_transport, own, _logger).ConfigureAwait(false);
            throw;
        }
    }

    private async Task<KVPair> PutAsync(KVPair kv, string path, ByteString key, ByteString value, long lease, WriteMode mode, long expected, CancellationToken cancellationToken)
    {
        var put = new PutRequest { Key = key, Value = value, Lease = lease };
        long revision;
        if (mode == WriteMode.Apply && expected == 0)
        {
            PutResponse reply = await _transport.CallAsync("put", (c, o) => c.KV.PutAsync(put, o).ResponseAsync, idempotent: false, cancellationToken).ConfigureAwait(false);
            revision = reply.Header?.Revision ?? 0;
        }
        else
        {
            Compare compare = (mode, expected) switch
            {
                (WriteMode.Create, _) => new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Equal, CreateRevision = 0 },
                (_, 0) => new Compare { Key = key, Target = Compare.Types.CompareTarget.Create, Result = Compare.Types.CompareResult.Greater, CreateRevision = 0 },
                _ => new Compare { Key = key, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Equal, ModRevision = expected },
            };
            RequestOp? failure = mode == WriteMode.Update && expected != 0 ? new RequestOp { RequestRange = new RangeRequest { Key = key } } : null;
            TxnResponse reply = await TxnAsync(mode == WriteMode.Create ? "create" : "update", compare, new RequestOp { RequestPut = put }, failure, cancellationToken).ConfigureAwait(false);
            if (!reply.Succeeded)
            {
                throw mode switch
                {
                    WriteMode.Create => new ResourceAlreadyExistsException($"Key '{path}' already exists."),
                    WriteMode.Update when expected == 0 => new ResourceNotFoundException($"Key '{path}' does not exist."),
                    WriteMode.Update => MissingOrConflict(path, expected, reply),
                    _ => new ResourceUpdateConflictException($"Key '{path}' is not at revision {expected}."),
                };
            }

            revision = reply.Header?.Revision ?? 0;
        }

        return new KVPair(kv.Key, kv.Value, Revisions.Format(revision)) { Ttl = kv.Ttl, Uid = kv.Uid };
    }

    private async Task<long> GrantAsync(TimeSpan ttl, CancellationToken cancellationToken)
    {
        var request = new LeaseGrantRequest { TTL = Math.Max(1, (long)Math.Ceiling(ttl.TotalSeconds)) };
        LeaseGrantResponse granted = await _transport.CallAsync(
            "lease-grant", (c, o) => c.Lease.LeaseGrantAsync(request, o).ResponseAsync, idempotent: false, cancellationToken).ConfigureAwait(false);
        if (granted.ID == 0)
        {
            throw new DatastoreException($"etcd granted no lease: {(string.IsNullOrEmpty(granted.Error) ? "no lease id in the reply" : granted.Error)}.");
        }

        return granted.ID;
    }

    private Task<TxnResponse> TxnAsync(string operation, Compare compare, RequestOp success, RequestOp? failure, CancellationToken cancellationToken)
    {
        var request = new TxnRequest { Compare = { compare }, Success = { success } };
        if (failure is not null)
        {
            request.Failure.Add(failure);
        }

        return _transport.CallAsync(operation, (c, o) => c.KV.TxnAsync(request, o).ResponseAsync, idempotent: false, cancellationToken);
    }

    private static ByteString Wrap(byte[] bytes) => UnsafeByteOperations.UnsafeWrap(bytes);

    private static DatastoreException MissingOrConflict(string path, long expected, TxnResponse reply)
    {
        RangeResponse? range = reply.Responses.Count > 0 ? reply.Responses[0].ResponseRange : null;
        return range is { Kvs.Count: > 0 } found
            ? new ResourceUpdateConflictException($"Key '{path}' is at revision {found.Kvs[0].ModRevision}, not {expected}.")
            : new ResourceNotFoundException($"Key '{path}' does not exist.");
    }

    private (string Prefix, long At) ValidateList(IListOptions list, string? revision)
    {
        ArgumentNullException.ThrowIfNull(list);
        string prefix = list.DefaultPathRoot ?? throw new ArgumentException("The list options have no path root.", nameof(list));
        long at = Revisions.ParseOptional(revision, nameof(revision));
        ThrowIfDisposed();
        return (prefix, at);
    }

    private static string ValidateKey(IKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        string? path = key.DefaultPath;
        if (string.IsNullOrEmpty(path))
        {
            throw new ArgumentException("The key's path is empty.", nameof(key));
        }

        return path;
    }

    private void Forget(EtcdWatch watch)
    {
        lock (_watchesLock)
        {
            _watches.Remove(watch);
        }
    }

    private void OnClientLeaseLost(long lease)
    {
        _metrics.ClientLeaseLost();
        ClientLeaseLost?.Invoke(this, EventArgs.Empty);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private enum WriteMode
    {
        Create,
        Update,
        Apply,
    }
}
