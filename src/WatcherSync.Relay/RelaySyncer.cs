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
    private readonly RelayChannels _channels;
    private readonly ClientPicture _picture;
    private readonly RevisionGuard _revisions;
    private readonly Lock _lifecycle = new();
    private readonly CancellationTokenSource _stopping = new();
    private int _status = (int)SyncStatus.WaitForDatastore;
    private readonly InSyncSignal _inSync = new();
    private SyncerCallbackException? _callbackFailure;
    private int _keyCount;
    private long _resyncs;
    private long _resumes;
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
        _channels = new RelayChannels(_endpoints, options);
        _picture = new ClientPicture(ParseKey, options.Codec, (key, raw) => Invoke(static (s, f) => s._parseFailCallbacks?.ParseFailed(f.Key, f.Raw), (Key: key, Raw: raw)));
        _revisions = new RevisionGuard(_picture, _time, options.DisconnectedTimeout);
    }

    /// <summary>Gets the status last announced to the callbacks (WaitForDatastore before the first).</summary>
    public SyncStatus Status => (SyncStatus)Volatile.Read(ref _status);

    /// <summary>Gets the number of keys the consumer holds.</summary>
    public long KeyCount => Volatile.Read(ref _keyCount);

    /// <inheritdoc />
    public Task WaitForInSyncAsync(CancellationToken cancellationToken = default) => _inSync.WaitAsync(cancellationToken);

    /// <inheritdoc />
    /// <remarks>The client goes on with the next updates and statuses; the failure is logged (event 7104) as well when a
    /// logger is configured.</remarks>
    public SyncerCallbackException? CallbackFailure => Volatile.Read(ref _callbackFailure);

    /// <summary>Gets the relay the syncer is connected to, or null between connections.</summary>
    public Uri? ConnectedEndpoint => Volatile.Read(ref _connected);

    /// <summary>Gets how many snapshots the syncer has completed.</summary>
    public long Resyncs => Interlocked.Read(ref _resyncs);

    /// <summary>Gets how many times a relay continued the syncer's picture from where it was, without a snapshot.</summary>
    public long Resumes => Interlocked.Read(ref _resumes);

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
            if (_callbacks is ISyncerStoppingCallbacks stopping)
            {
                Invoke(static (_, s) => s.OnStopping(), stopping);
            }

            var deletes = new List<Update>(_picture.Count);
            _picture.Clear(deletes);
            if (_options.DeleteOnStop)
            {
                Deliver(deletes);
            }
        }

        _channels.Dispose();

        _inSync.Stopped();
        _metrics.Dispose();
        _stopping.Dispose();
    }

    /// <summary>
    /// The connection loop: one connection at a time, to the endpoints in turn. Its state: <c>backoff</c> grows with the
    /// failed connections since the last one that completed a resync (the direct syncer's type: full jitter below a
    /// ceiling from MinReconnectDelay doubling to MaxReconnectDelay); <c>refusals</c> knows what each endpoint last
    /// refused. Each refusal is reported once (SyncFailed, at once) until its reason changes; when every endpoint
    /// refuses, the client waits MaxReconnectDelay between tries, since only reconfiguration can cure a refusal.
    /// </summary>
    private async Task RunAsync(CancellationToken token)
    {
        int index = Random.Shared.Next(_endpoints.Length);
        var backoff = new ExponentialBackoff(new BackoffOptions { InitialDelay = _options.MinReconnectDelay, MaxDelay = _options.MaxReconnectDelay }, _time);
        var refusals = new EndpointRefusals(_endpoints.Length);
        long disconnectedSince = _time.GetTimestamp();
        while (!token.IsCancellationRequested)
        {
            Uri endpoint = _endpoints[index];
            var session = new RelaySession();
            StatusCode code = StatusCode.Unavailable;
            string detail = "the relay ended the stream";
            Exception lastError = new RpcException(new Status(code, "The relay ended the stream."));
            try
            {
                await RunConnectionAsync(index, session, token).ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Whatever ends a connection, the loop goes on (or ends, when stopping): it must never die silently.
            catch (Exception) when (token.IsCancellationRequested)
            {
                break;
            }
            catch (RpcException ex)
            {
                (code, detail, lastError) = (ex.StatusCode, session.Silent ? "the relay went silent" : ex.Status.Detail, ex);
            }
            catch (Exception ex)
            {
                (detail, lastError) = (session.Silent ? "the relay went silent" : ex.Message, ex);
            }
#pragma warning restore CA1031

            if (session.Refused is null && !session.Heard && await TlsProbe.MightBeTlsAsync(endpoint, lastError, _time, token).ConfigureAwait(false))
            {
                // Ended before the relay said anything, with a transport error: an http:// endpoint that speaks TLS
                // fails so, and would be retried for ever.
                session.Refused = TlsProbe.Refusal(endpoint);
            }

            Volatile.Write(ref _connected, null);
            _metrics.Connection(session.Resynced);
            if (session.Resynced)
            {
                backoff.Reset();
                refusals.Clear();
                disconnectedSince = _time.GetTimestamp();
            }

            RelayRefusedException? refusal = session.Refused ?? (session.Silent ? null : RelayRefusals.Classify(endpoint, lastError));
            bool newRefusal = refusals.Record(index, refusal);
            bool allRefused = refusals.AllRefuse;
            TimeSpan delay = allRefused ? Jitter(_options.MaxReconnectDelay) : backoff.Next(TimeSpan.Zero);
            RelayClientLog.ConnectionEnded(_logger, _options.ClientName, endpoint, code, refusal?.Reason ?? detail, delay);
            index = (index + 1) % _endpoints.Length;
            TimeSpan disconnected = _time.GetElapsedTime(disconnectedSince);
            if (newRefusal)
            {
                // Retrying cannot cure this (credentials, feed, prefix, certificate, http vs https, no HTTP/2): say so
                // now, with the reason, rather than after DisconnectedTimeout. The client still tries again at its
                // longest delay once every endpoint refuses: a relay may be reconfigured, and other endpoints may differ.
                RelayClientLog.Refused(_logger, _options.ClientName, refusal!.Message);
                if (allRefused)
                {
                    Announce(SyncStatus.WaitForDatastore);
                }

                Invoke(static (s, e) => s._syncFailCallbacks?.SyncFailed(e), refusal);
            }
            else if (refusal is null && disconnected > _options.DisconnectedTimeout && Status != SyncStatus.WaitForDatastore)
            {
                RelayClientLog.Disconnected(_logger, _options.ClientName, disconnected);
                Announce(SyncStatus.WaitForDatastore);
                Invoke(static (s, e) => s._syncFailCallbacks?.SyncFailed(e), lastError);
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

    /// <summary>The wait once every relay refuses: the longest delay, with "equal jitter" (half fixed, half random).</summary>
    private static TimeSpan Jitter(TimeSpan ceiling) =>
        TimeSpan.FromMilliseconds((ceiling.TotalMilliseconds / 2) + (Random.Shared.NextDouble() * ceiling.TotalMilliseconds / 2));

    private async Task RunConnectionAsync(int index, RelaySession session, CancellationToken token)
    {
        Uri endpoint = _endpoints[index];
        var client = new Protocol.Relay.RelayClient(_channels.Get(index));
        using var connection = CancellationTokenSource.CreateLinkedTokenSource(token);
        Metadata? headers = _options.BearerToken is { } bearer ? new Metadata { { "authorization", "Bearer " + bearer } } : null;
        using AsyncDuplexStreamingCall<ClientMessage, ServerMessage> call = client.Subscribe(headers, cancellationToken: connection.Token);
        using var watchdog = new SilenceWatchdog(_time, _options.SilenceTimeout, silence =>
        {
            session.Silent = true;
            RelayClientLog.Silent(_logger, _options.ClientName, endpoint, silence);
            connection.Cancel();
        });

        Task tlsCheck = endpoint.Scheme == Uri.UriSchemeHttp ? TlsProbe.WatchAsync(endpoint, session, connection, _time) : Task.CompletedTask;
        var hello = new Hello { ProtocolVersion = RelayProtocol.Version, ClientName = _options.ClientName, Feed = _options.Feed };
        hello.Prefixes.AddRange(_options.Prefixes);
        if (_options.Compression)
        {
            hello.AcceptEncodings.AddRange(BatchDecoder.Accepted);
        }

        hello.Position = _picture.Position();
        await call.RequestStream.WriteAsync(new ClientMessage { Hello = hello }, connection.Token).ConfigureAwait(false);
        IAsyncStreamReader<ServerMessage> responses = call.ResponseStream;
        bool welcomed = false;
        bool inSnapshot = false;
        try
        {
            while (await responses.MoveNext(connection.Token).ConfigureAwait(false))
            {
                watchdog.Heard();
                session.Heard = true;
                ServerMessage message = responses.Current;
                var updates = new List<Update>();
                switch (message.KindCase)
                {
                    case ServerMessage.KindOneofCase.Welcome when !welcomed:
                        welcomed = true;
                        if (message.Welcome.PingIntervalMs > 0)
                        {
                            watchdog.AllowAtLeast(TimeSpan.FromMilliseconds(message.Welcome.PingIntervalMs * 3.0));
                        }

                        _revisions.Check(endpoint, message.Welcome);
                        Volatile.Write(ref _connected, endpoint);
                        RelayClientLog.Connected(_logger, _options.ClientName, endpoint, message.Welcome.ServerName, message.Welcome.Feed, message.Welcome.SnapshotSequence);
                        if (message.Welcome.Resumed)
                        {
                            // No snapshot: the log follows from where the consumer's picture is. It keeps its status,
                            // as a direct syncer does when it watches again, until the replay says otherwise.
                            SyncStatus resumedAt = ReadStatus(message.Welcome.Status);
                            _picture.BeginResume(message.Welcome, resumedAt);
                            if (resumedAt == SyncStatus.WaitForDatastore)
                            {
                                RelayLostDatastore(endpoint);
                            }

                            AfterResyncStep(session, resumedAt == SyncStatus.InSync ? null : resumedAt);
                        }
                        else
                        {
                            inSnapshot = true;
                            _picture.BeginResync(message.Welcome);
                            Announce(SyncStatus.ResyncInProgress);
                        }

                        break;

                    case ServerMessage.KindOneofCase.SnapshotChunk when inSnapshot:
                        _picture.ApplySnapshotChunk(BatchDecoder.Entries(message.SnapshotChunk, RelayChannels.MaxMessageBytes), updates);
                        Deliver(updates);
                        if (message.SnapshotChunk.Last)
                        {
                            inSnapshot = false;
                            if (message.SnapshotChunk.Status == FeedStatus.WaitForDatastore)
                            {
                                RelayLostDatastore(endpoint);
                            }

                            _picture.EndSnapshot((long)message.SnapshotChunk.Sequence, ReadStatus(message.SnapshotChunk.Status));
                            AfterResyncStep(session, ReadStatus(message.SnapshotChunk.Status));
                        }

                        break;

                    case ServerMessage.KindOneofCase.Deltas when welcomed && !inSnapshot:
                        _picture.ApplyDeltas(message.Deltas, updates);
                        Deliver(updates);
                        if (_picture.Resyncing)
                        {
                            AfterResyncStep(session, null);
                        }

                        break;

                    case ServerMessage.KindOneofCase.Status when welcomed && !inSnapshot:
                        if (message.Status.Status == FeedStatus.WaitForDatastore)
                        {
                            RelayLostDatastore(endpoint);
                        }

                        _picture.SetStatus((long)message.Status.Sequence, ReadStatus(message.Status.Status));
                        if (_picture.Resyncing)
                        {
                            AfterResyncStep(session, ReadStatus(message.Status.Status));
                        }
                        else
                        {
                            Announce(ReadStatus(message.Status.Status));
                        }

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
        }
        finally
        {
            // A resync cut short leaves the consumer with the picture it had (and what it was already told).
            _picture.AbandonResync();
            await connection.CancelAsync().ConfigureAwait(false);
            await tlsCheck.ConfigureAwait(false);
        }

        // The relay ended the stream without a status: it is going away. Reconnect elsewhere.
        await call.ResponseHeadersAsync.ConfigureAwait(false);
        Status status = call.GetStatus();
        throw new RpcException(status.StatusCode == StatusCode.OK ? new Status(StatusCode.Unavailable, "The relay ended the stream.") : status);
    }

    private static SyncStatus ReadStatus(FeedStatus status) =>
        RelayProtocol.FromWire(status) ?? throw new RelayProtocolException($"The relay sent an unknown status {status}.");

    /// <summary>
    /// After each step of a resync: when the connection holds the feed's current picture and the feed is in sync,
    /// report the difference and announce InSync; until then say what the feed says, short of InSync.
    /// </summary>
    private void AfterResyncStep(RelaySession session, SyncStatus? feedStatus)
    {
        var updates = new List<Update>();
        bool resuming = _picture.Resuming;
        if (_picture.TryFinishResync(updates, out int keys, out int deleted))
        {
            Deliver(updates);
            session.Resynced = true;
            _revisions.Caught();
            if (resuming)
            {
                Interlocked.Increment(ref _resumes);
                _metrics.Resume();
                RelayClientLog.Resumed(_logger, _options.ClientName, keys);
            }
            else
            {
                Interlocked.Increment(ref _resyncs);
                _metrics.Resync();
                RelayClientLog.Resynced(_logger, _options.ClientName, keys, deleted);
            }

            Announce(SyncStatus.InSync);
        }
        else if (feedStatus == SyncStatus.WaitForDatastore)
        {
            Announce(SyncStatus.WaitForDatastore);
        }
        else if (feedStatus is not null)
        {
            Announce(SyncStatus.ResyncInProgress);
        }
    }

    /// <summary>The relay's feed cannot reach the datastore: the consumer hears SyncFailed, as from a direct syncer.</summary>
    private void RelayLostDatastore(Uri endpoint) =>
        Invoke(static (s, e) => s._syncFailCallbacks?.SyncFailed(e), new DatastoreUnavailableException($"The relay at {endpoint} cannot reach its datastore; the client keeps its picture until it can."));

    private IKey? ParseKey(string key)
    {
        try
        {
            return _options.KeyParser(key);
        }
#pragma warning disable CA1031 // The key parser is the consumer's code: whatever it throws is a parse failure, not the syncer's end.
        catch (Exception)
#pragma warning restore CA1031
        {
            Invoke(static (s, k) => s._parseFailCallbacks?.ParseFailed(k, null), key);
            return null;
        }
    }

    private void Deliver(List<Update> updates)
    {
        Volatile.Write(ref _keyCount, _picture.Count);
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
        _inSync.Announced(status);
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
            var failure = new SyncerCallbackException(_options.ClientName, ex);
            if (Interlocked.CompareExchange(ref _callbackFailure, failure, null) is null)
            {
                _inSync.CallbackFailed(failure);
            }
        }
    }
}
