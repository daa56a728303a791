using System.Net;
using System.Net.Http;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using WatcherSync.Relay.Protocol;

namespace WatcherSync.Relay;

/// <summary>
/// An <see cref="ISyncer"/> that takes its picture from WatcherSync relays instead of from the datastore: swap it in
/// for a <see cref="WatcherSyncer"/> and the callbacks see the same semantics (one call at a time, New/Updated/Deleted
/// from the keys the consumer holds, statuses never repeated, no updates while WaitForDatastore, every key deleted on
/// stop). When a connection breaks it moves on to the next relay with jittered backoff and resyncs: keys it holds that
/// the new snapshot does not mention are deleted before the status after the snapshot, so nothing stale survives, and
/// keys whose revision did not change are not reported again.
/// </summary>
public sealed class RelaySyncer : ISyncer
{
    private readonly RelaySyncerOptions _options;
    private readonly ISyncerCallbacks _callbacks;
    private readonly ISyncerParseFailCallbacks? _parseFailCallbacks;
    private readonly ISyncFailCallbacks? _syncFailCallbacks;
    private readonly ILogger _logger;
    private readonly RelayClientMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly Uri[] _endpoints;
    private readonly GrpcChannel?[] _channels;
    private readonly Dictionary<string, KnownKey> _known = new(StringComparer.Ordinal);
    private readonly Lock _lifecycle = new();
    private readonly CancellationTokenSource _stopping = new();
    private int _status = (int)SyncStatus.WaitForDatastore;
    private long _epoch;
    private int _keyCount;
    private long _resyncs;
    private Uri? _connected;
    private Task? _running;
    private Task? _stop;

    /// <summary>Creates a relay syncer; call <see cref="Start"/> to begin.</summary>
    /// <param name="options">Where the relays are, which feed, credentials and timings.</param>
    /// <param name="callbacks">Receives the status and the updates. It may also implement
    /// <see cref="ISyncerParseFailCallbacks"/> and <see cref="ISyncFailCallbacks"/>.</param>
    /// <exception cref="InvalidOperationException">The options are not valid.</exception>
    public RelaySyncer(RelaySyncerOptions options, ISyncerCallbacks callbacks)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(callbacks);
        options.Validate();
        _options = options;
        _callbacks = callbacks;
        _parseFailCallbacks = callbacks as ISyncerParseFailCallbacks;
        _syncFailCallbacks = callbacks as ISyncFailCallbacks;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<RelaySyncer>();
        _metrics = new RelayClientMetrics(options.MeterFactory, options.Feed);
        _time = options.TimeProvider;
        _endpoints = [.. options.Endpoints];
        _channels = new GrpcChannel?[_endpoints.Length];
    }

    /// <summary>Gets the status last announced to the callbacks (WaitForDatastore before the first).</summary>
    public SyncStatus Status => (SyncStatus)Volatile.Read(ref _status);

    /// <summary>Gets the number of keys the consumer holds.</summary>
    public long KeyCount => Volatile.Read(ref _keyCount);

    /// <summary>Gets the relay the syncer is connected to, or null between connections.</summary>
    public Uri? ConnectedEndpoint => Volatile.Read(ref _connected);

    /// <summary>Gets how many snapshots the syncer has completed (one per successful connection).</summary>
    public long Resyncs => Interlocked.Read(ref _resyncs);

    /// <inheritdoc />
    public void Start()
    {
        lock (_lifecycle)
        {
            ObjectDisposedException.ThrowIf(_stop is not null, this);
            if (_running is not null)
            {
                throw new InvalidOperationException("The syncer has already been started.");
            }

            _running = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        }
    }

    /// <inheritdoc />
    /// <remarks>Ends the connection, then reports every key the consumer holds as deleted. Do not await it from a callback.</remarks>
    public Task StopAsync()
    {
        lock (_lifecycle)
        {
            return _stop ??= StopCoreAsync(_running);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task StopCoreAsync(Task? running)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (running is not null)
        {
            await running.ConfigureAwait(false);
            var deletes = new List<Update>(_known.Count);
            foreach ((string key, KnownKey known) in _known)
            {
                deletes.Add(new Update(new KVPair(_options.KeyParser(key), null, known.Revision), UpdateType.Deleted));
            }

            _known.Clear();
            Deliver(deletes);
            Volatile.Write(ref _keyCount, 0);
        }

        foreach (GrpcChannel? channel in _channels)
        {
            channel?.Dispose();
        }

        _metrics.Dispose();
        _stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken token)
    {
        int index = Random.Shared.Next(_endpoints.Length);
        int failures = 0;
        long disconnectedSince = _time.GetTimestamp();
        Exception? lastError = null;
        while (!token.IsCancellationRequested)
        {
            Uri endpoint = _endpoints[index];
            var session = new Session();
            StatusCode code = StatusCode.Unavailable;
            string detail = "the relay ended the stream";
            try
            {
                await RunConnectionAsync(index, session, token).ConfigureAwait(false);
            }
            catch (Exception ex) when (token.IsCancellationRequested && ex is OperationCanceledException or RpcException or IOException)
            {
                break;
            }
            catch (RpcException ex)
            {
                (code, detail, lastError) = (ex.StatusCode, session.Silent ? "the relay went silent" : ex.Status.Detail, ex);
            }
            catch (Exception ex) when (!token.IsCancellationRequested && ex is IOException or HttpRequestException or InvalidOperationException or OperationCanceledException or Google.Protobuf.InvalidProtocolBufferException or RelayProtocolException)
            {
                (code, detail, lastError) = (StatusCode.Unavailable, session.Silent ? "the relay went silent" : ex.Message, ex);
            }

            Volatile.Write(ref _connected, null);
            _metrics.Connection(session.Resynced);
            if (session.Resynced)
            {
                failures = 0;
                disconnectedSince = _time.GetTimestamp();
            }

            index = (index + 1) % _endpoints.Length;
            TimeSpan delay = Backoff(++failures);
            RelayClientLog.ConnectionEnded(_logger, _options.ClientName, endpoint, code, detail, delay);
            TimeSpan disconnected = _time.GetElapsedTime(disconnectedSince);
            if (disconnected > _options.DisconnectedTimeout && Status != SyncStatus.WaitForDatastore)
            {
                RelayClientLog.Disconnected(_logger, _options.ClientName, disconnected);
                Announce(SyncStatus.WaitForDatastore);
                Invoke(static (s, e) => s._syncFailCallbacks?.SyncFailed(e), lastError ?? new RpcException(new Status(code, detail)));
            }

            try
            {
                await Task.Delay(delay, _time, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private TimeSpan Backoff(int failures)
    {
        // The first retry after a good session goes straight to the next relay; after that, exponential with "equal
        // jitter" (half fixed, half random) so that a fleet cut off together does not come back together.
        double ceiling = Math.Min(_options.MaxReconnectDelay.TotalMilliseconds, _options.MinReconnectDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures - 1, 30)));
        return TimeSpan.FromMilliseconds((ceiling / 2) + (Random.Shared.NextDouble() * ceiling / 2));
    }

    private async Task RunConnectionAsync(int index, Session session, CancellationToken token)
    {
        Uri endpoint = _endpoints[index];
        var client = new Protocol.Relay.RelayClient(GetChannel(index));
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(token);
        Metadata? headers = _options.BearerToken is { } bearer ? new Metadata { { "authorization", "Bearer " + bearer } } : null;
        using AsyncDuplexStreamingCall<ClientMessage, ServerMessage> call = client.Subscribe(headers, cancellationToken: connection.Token);
        long lastReceived = _time.GetTimestamp();
        TimeSpan silenceLimit = _options.SilenceTimeout;
        TimeSpan tick = silenceLimit / 4;
        using ITimer watchdog = _time.CreateTimer(
            _ =>
            {
                TimeSpan silence = _time.GetElapsedTime(Volatile.Read(ref lastReceived));
                if (silence > silenceLimit && !session.Silent)
                {
                    session.Silent = true;
                    RelayClientLog.Silent(_logger, _options.ClientName, endpoint, silence);
                    connection.Cancel();
                }
            },
            null,
            tick,
            tick);

        var hello = new Hello { ProtocolVersion = RelayProtocol.Version, ClientName = _options.ClientName, Feed = _options.Feed };
        hello.Prefixes.AddRange(_options.Prefixes);
        await call.RequestStream.WriteAsync(new ClientMessage { Hello = hello }, connection.Token).ConfigureAwait(false);
        IAsyncStreamReader<ServerMessage> responses = call.ResponseStream;
        bool welcomed = false;
        bool inSnapshot = false;
        var snapshotSeen = new SnapshotCounter();
        while (await responses.MoveNext(connection.Token).ConfigureAwait(false))
        {
            Volatile.Write(ref lastReceived, _time.GetTimestamp());
            ServerMessage message = responses.Current;
            switch (message.KindCase)
            {
                case ServerMessage.KindOneofCase.Welcome when !welcomed:
                    welcomed = true;
                    inSnapshot = true;
                    if (message.Welcome.PingIntervalMs > 0)
                    {
                        silenceLimit = TimeSpan.FromTicks(Math.Max(silenceLimit.Ticks, TimeSpan.FromMilliseconds(message.Welcome.PingIntervalMs * 3.0).Ticks));
                    }

                    Volatile.Write(ref _connected, endpoint);
                    RelayClientLog.Connected(_logger, _options.ClientName, endpoint, message.Welcome.ServerName, message.Welcome.Feed, message.Welcome.SnapshotSequence);
                    BeginResync();
                    break;

                case ServerMessage.KindOneofCase.SnapshotChunk when inSnapshot:
                    ApplySnapshot(message.SnapshotChunk.Entries, snapshotSeen);
                    if (message.SnapshotChunk.Last)
                    {
                        inSnapshot = false;
                        FinishResync(ReadStatus(message.SnapshotChunk.Status), snapshotSeen.Count);
                        session.Resynced = true;
                    }

                    break;

                case ServerMessage.KindOneofCase.Deltas when welcomed && !inSnapshot:
                    foreach (Google.Protobuf.ByteString batch in message.Deltas.Batches)
                    {
                        ApplyDeltas(batch);
                    }

                    break;

                case ServerMessage.KindOneofCase.Status when welcomed && !inSnapshot:
                    Announce(ReadStatus(message.Status.Status));
                    break;

                case ServerMessage.KindOneofCase.Ping:
                    await call.RequestStream.WriteAsync(new ClientMessage { Pong = new Pong { Id = message.Ping.Id } }, connection.Token).ConfigureAwait(false);
                    break;

                case ServerMessage.KindOneofCase.None:
                    // A kind this version does not know: a newer relay speaking an addition version 1 peers may ignore.
                    break;

                default:
                    throw new RelayProtocolException($"The relay sent {message.KindCase} out of order.");
            }
        }

        // The relay ended the stream without a status: it is going away. Reconnect elsewhere.
        await call.ResponseHeadersAsync.ConfigureAwait(false);
        Status status = call.GetStatus();
        throw new RpcException(status.StatusCode == StatusCode.OK ? new Status(StatusCode.Unavailable, "The relay ended the stream.") : status);
    }

    private static SyncStatus ReadStatus(FeedStatus status) =>
        RelayProtocol.FromWire(status) ?? throw new RelayProtocolException($"The relay sent an unknown status {status}.");

    private void BeginResync()
    {
        _epoch++;
        Announce(SyncStatus.ResyncInProgress);
    }

    private void ApplySnapshot(Google.Protobuf.ByteString entries, SnapshotCounter seen)
    {
        if (entries.IsEmpty)
        {
            return;
        }

        KeyValueBatch batch = KeyValueBatch.Parser.ParseFrom(entries);
        var updates = new List<Update>(batch.Items.Count);
        foreach (KeyValue item in batch.Items)
        {
            if (item.Deleted)
            {
                continue;
            }

            seen.Count++;
            Apply(item, updates);
        }

        Deliver(updates);
    }

    private void ApplyDeltas(Google.Protobuf.ByteString bytes)
    {
        KeyValueBatch batch = KeyValueBatch.Parser.ParseFrom(bytes);
        var updates = new List<Update>(batch.Items.Count);
        foreach (KeyValue item in batch.Items)
        {
            if (item.Deleted)
            {
                if (_known.Remove(item.Key, out KnownKey? known))
                {
                    updates.Add(new Update(new KVPair(_options.KeyParser(item.Key), null, item.Revision.Length > 0 ? item.Revision : known.Revision), UpdateType.Deleted));
                }

                continue;
            }

            Apply(item, updates);
        }

        Deliver(updates);
    }

    /// <summary>Applies one present key: New when the consumer lacks it, Updated when its revision changed, nothing when it did not.</summary>
    private void Apply(KeyValue item, List<Update> updates)
    {
        bool held = _known.TryGetValue(item.Key, out KnownKey? known);
        if (held)
        {
            known!.Epoch = _epoch;
            if (item.Revision.Length > 0 && item.Revision == known.Revision)
            {
                return;
            }
        }

        object value;
        try
        {
            value = _options.Codec.Decode(item.Key, item.Value.Memory);
        }
        catch (ValueParseException ex)
        {
            // Like a direct syncer: the consumer hears of it and goes on with the other keys. It must not keep a value
            // the datastore no longer has, so a key it holds is deleted.
            Invoke(static (s, f) => s._parseFailCallbacks?.ParseFailed(f.Key, f.Raw), (Key: item.Key, Raw: ex.RawValue));
            if (held)
            {
                _known.Remove(item.Key);
                updates.Add(new Update(new KVPair(_options.KeyParser(item.Key), null, item.Revision), UpdateType.Deleted));
            }

            return;
        }

        var kv = new KVPair(_options.KeyParser(item.Key), value, item.Revision.Length > 0 ? item.Revision : null);
        if (held)
        {
            known!.Revision = item.Revision;
            updates.Add(new Update(kv, UpdateType.Updated));
        }
        else
        {
            _known.Add(item.Key, new KnownKey(item.Revision, _epoch));
            updates.Add(new Update(kv, UpdateType.New));
        }
    }

    /// <summary>Ends a resync: keys the snapshot did not mention are deleted, then the feed's status at the snapshot is announced.</summary>
    private void FinishResync(SyncStatus status, int seen)
    {
        var deletes = new List<Update>();
        foreach ((string key, KnownKey known) in _known)
        {
            if (known.Epoch != _epoch)
            {
                deletes.Add(new Update(new KVPair(_options.KeyParser(key), null, known.Revision), UpdateType.Deleted));
            }
        }

        foreach (Update delete in deletes)
        {
            _known.Remove(delete.KVPair.Key.DefaultPath);
        }

        Deliver(deletes);
        Interlocked.Increment(ref _resyncs);
        _metrics.Resync();
        RelayClientLog.Resynced(_logger, _options.ClientName, seen, deletes.Count);
        Announce(status);
    }

    private void Deliver(List<Update> updates)
    {
        Volatile.Write(ref _keyCount, _known.Count);
        if (updates.Count == 0)
        {
            return;
        }

        // No updates go out while the announced status is WaitForDatastore: they mean a resync is under way.
        if (Status == SyncStatus.WaitForDatastore)
        {
            Announce(SyncStatus.ResyncInProgress);
        }

        int max = _options.MaxUpdatesPerBatch;
        for (int start = 0; start < updates.Count; start += max)
        {
            List<Update> batch = start == 0 && updates.Count <= max ? updates : updates.GetRange(start, Math.Min(max, updates.Count - start));
            _metrics.Updates(batch.Count);
            Invoke(static (s, b) => s._callbacks.OnUpdates(b), batch);
        }
    }

    private void Announce(SyncStatus status)
    {
        if ((int)status == Volatile.Read(ref _status))
        {
            return;
        }

        Volatile.Write(ref _status, (int)status);
        Invoke(static (s, st) => s._callbacks.OnStatusUpdated(st), status);
    }

    private void Invoke<T>(Action<RelaySyncer, T> callback, T argument)
    {
        try
        {
            callback(this, argument);
        }
#pragma warning disable CA1031 // A callback that throws is the consumer's bug; it must not stop the syncer.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            RelayClientLog.CallbackFailed(_logger, _options.ClientName, ex);
        }
    }

    private GrpcChannel GetChannel(int index)
    {
        // One channel per endpoint, made once and reused across reconnects.
        return _channels[index] ??= GrpcChannel.ForAddress(_endpoints[index], new GrpcChannelOptions
        {
            HttpHandler = CreateHandler(),
            MaxReceiveMessageSize = 64 * 1024 * 1024,
            DisposeHttpClient = true,
        });
    }

    private SocketsHttpHandler CreateHandler()
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = false,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectTimeout = _options.SilenceTimeout,
            AutomaticDecompression = DecompressionMethods.None,
        };
        if (_options.ClientCertificate is { } certificate)
        {
            handler.SslOptions.ClientCertificates = [certificate];
        }

        if (_options.ServerCertificateValidation is { } validate)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = validate;
        }

        return handler;
    }

    private sealed class KnownKey(string revision, long epoch)
    {
        public string Revision { get; set; } = revision;

        public long Epoch { get; set; } = epoch;
    }

    private sealed class Session
    {
        public bool Resynced { get; set; }

        public bool Silent { get; set; }
    }

    private sealed class SnapshotCounter
    {
        public int Count { get; set; }
    }
}
