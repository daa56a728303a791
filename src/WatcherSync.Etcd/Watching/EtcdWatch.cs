using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using WatcherSync.Etcd.Diagnostics;
using WatcherSync.Etcd.Gateway;

namespace WatcherSync.Etcd.Watching;

/// <summary>
/// A watch on etcd's gateway: one streaming POST to /v3/watch at a time. A stream that breaks (member down, no
/// leader, silence past the watchdog) is reopened on the next endpoint from the last revision delivered, for up to
/// <see cref="EtcdClientOptions.WatchReconnectTimeout"/>; after that the watch ends with a transient error.
/// Compaction and other definite failures end it at once.
/// </summary>
internal sealed class EtcdWatch : IWatch
{
    private static readonly Dictionary<string, string> HasLeader = new(StringComparer.Ordinal) { ["Grpc-Metadata-hasleader"] = "true" };
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(1);

    private readonly EtcdTransport _transport;
    private readonly EtcdClientOptions _options;
    private readonly ILogger _logger;
    private readonly EtcdMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly string _prefix;
    private readonly byte[] _key;
    private readonly byte[] _rangeEnd;
    private readonly WatchEventTranslator _translator;
    private readonly Channel<WatchEvent> _channel;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<EtcdWatch> _onDisposed;
    private readonly List<WatchEvent> _batch = [];
    private Task _run = Task.CompletedTask;
    private long? _brokenSince;
    private int _disposed;

    private EtcdWatch(EtcdTransport transport, EtcdConverter converter, EtcdClientOptions options, ILogger logger, EtcdMetrics metrics, IListOptions list, WatchOptions watchOptions, long after, Action<EtcdWatch> onDisposed)
    {
        _transport = transport;
        _options = options;
        _logger = logger;
        _metrics = metrics;
        _time = options.TimeProvider;
        _prefix = list.DefaultPathRoot;
        (_key, _rangeEnd) = converter.Keys.PrefixRange(_prefix);
        _translator = new WatchEventTranslator(converter, list, watchOptions.AllowWatchBookmarks, after);
        _onDisposed = onDisposed;
        _channel = Channel.CreateBounded<WatchEvent>(new BoundedChannelOptions(4096)
        {
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public ChannelReader<WatchEvent> Events => _channel.Reader;

    /// <summary>Starts a watch and returns once etcd has created it (so "from now" really means now).</summary>
    public static async Task<EtcdWatch> StartAsync(EtcdTransport transport, EtcdConverter converter, EtcdClientOptions options, ILogger logger, EtcdMetrics metrics, IListOptions list, WatchOptions watchOptions, long after, Action<EtcdWatch> onDisposed, CancellationToken cancellationToken)
    {
        var watch = new EtcdWatch(transport, converter, options, logger, metrics, list, watchOptions, after, onDisposed);
        watch._run = Task.Run(watch.RunAsync, CancellationToken.None);
        try
        {
            await watch._started.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return watch;
        }
        catch
        {
            await watch.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _run.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping is the point.
        }

        _channel.Writer.TryComplete();
        _stop.Dispose();
        _onDisposed(this);
    }

    private async Task RunAsync()
    {
        int index = _transport.Current;
        TimeSpan backoff = FirstBackoff;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                (DatastoreException? error, bool terminal) = await StreamOnceAsync(index).ConfigureAwait(false);
                if (error is null || _stop.IsCancellationRequested)
                {
                    return;
                }

                if (terminal)
                {
                    await FailAsync(error).ConfigureAwait(false);
                    return;
                }

                if (_brokenSince is null)
                {
                    _brokenSince = _time.GetTimestamp();
                    backoff = FirstBackoff;
                }

                if (_time.GetElapsedTime(_brokenSince.Value) >= _options.WatchReconnectTimeout)
                {
                    await FailAsync(error).ConfigureAwait(false);
                    return;
                }

                Log.WatchReconnecting(_logger, _prefix, _translator.LastRevision, error.Message);
                _metrics.WatchReconnected();
                index = (index + 1) % _transport.EndpointCount;
                await Task.Delay(backoff, _time, _stop.Token).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed.
        }
        finally
        {
            _started.TrySetCanceled();
            _channel.Writer.TryComplete();
        }
    }

    private async Task FailAsync(DatastoreException error)
    {
        Log.WatchEnded(_logger, _prefix, error.Message);
        if (!_started.Task.IsCompleted)
        {
            _started.TrySetException(error);
            return;
        }

        await _channel.Writer.WriteAsync(WatchEvent.FromError(error), _stop.Token).ConfigureAwait(false);
    }

    /// <summary>Runs one stream; returns why it ended: null when stopped, else the error and whether it is final.</summary>
    private async Task<(DatastoreException? Error, bool Terminal)> StreamOnceAsync(int index)
    {
        string endpoint = _transport.Endpoint(index);
        long startRevision = _translator.LastRevision == 0 ? 0 : _translator.LastRevision + 1;
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(
            new WatchRequest
            {
                CreateRequest = new WatchCreateRequest { Key = _key, RangeEnd = _rangeEnd, StartRevision = startRevision, ProgressNotify = true, PrevKv = true },
            },
            EtcdJsonContext.Default.WatchRequest);

        using var stream = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        TimeSpan silence = _options.ProgressNotifyInterval == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : _options.ProgressNotifyInterval + _options.WatchdogSlack;
        bool watchdogFired = false;
        using ITimer watchdog = _time.CreateTimer(
            _ =>
            {
                watchdogFired = true;
                stream.Cancel();
            },
            null,
            silence,
            Timeout.InfiniteTimeSpan);
        try
        {
            using HttpResponseMessage response = await _transport.OpenStreamAsync(index, "watch", "/v3/watch", body, HasLeader, stream.Token).ConfigureAwait(false);
            Stream content = await response.Content.ReadAsStreamAsync(stream.Token).ConfigureAwait(false);
            await using (content.ConfigureAwait(false))
            {
                var reader = new WatchStreamReader(content);
                while (true)
                {
                    WatchEnvelope? envelope = await reader.ReadAsync(stream.Token).ConfigureAwait(false);
                    watchdog.Change(silence, Timeout.InfiniteTimeSpan);
                    if (envelope is null)
                    {
                        return (new DatastoreUnavailableException($"The watch stream from etcd at {endpoint} ended."), false);
                    }

                    if (envelope.Error is { } error)
                    {
                        DatastoreException mapped = MapStreamError(error, endpoint, out bool invalidToken);
                        if (invalidToken)
                        {
                            await _transport.RenewTokenAsync(index, null, stream.Token).ConfigureAwait(false);
                            return (mapped, false);
                        }

                        return (mapped, !mapped.IsTransient);
                    }

                    if (envelope.Result is not { } result)
                    {
                        continue;
                    }

                    if (result.Canceled)
                    {
                        return await CanceledAsync(result, index, endpoint, stream.Token).ConfigureAwait(false);
                    }

                    if (result.Created)
                    {
                        if (await WentBackwardsAsync(result.Header?.Revision ?? 0, endpoint, stream.Token).ConfigureAwait(false) is { } reset)
                        {
                            return (reset, true);
                        }

                        _translator.StartAt(result.Header?.Revision ?? 0);
                        _brokenSince = null;
                        _started.TrySetResult();
                        Log.WatchConnected(_logger, _prefix, endpoint, startRevision);
                        continue;
                    }

                    _batch.Clear();
                    int dropped = _translator.Dropped;
                    _translator.Translate(result, _batch);
                    if (_translator.Dropped != dropped)
                    {
                        Log.ReplayDropped(_logger, _prefix, _translator.Dropped - dropped, _translator.LastRevision);
                    }

                    foreach (WatchEvent watchEvent in _batch)
                    {
                        if (!_channel.Writer.TryWrite(watchEvent))
                        {
                            // The consumer is behind: stop the watchdog while we wait on it, not on etcd.
                            watchdog.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                            await _channel.Writer.WriteAsync(watchEvent, _stop.Token).ConfigureAwait(false);
                            watchdog.Change(silence, Timeout.InfiniteTimeSpan);
                        }
                    }

                    if (_batch.Count > 0)
                    {
                        _metrics.WatchEvents(_batch.Count);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return (null, false);
        }
        catch (OperationCanceledException ex) when (watchdogFired)
        {
            Log.WatchdogExpired(_logger, _prefix, silence);
            return (new DatastoreUnavailableException($"The watch stream from etcd at {endpoint} was silent for more than {silence.TotalSeconds:0.###} s.", ex), false);
        }
        catch (EndpointFailure failure)
        {
            return (failure.Error, !failure.Error.IsTransient);
        }
        catch (DatastoreException ex)
        {
            // The revision check, a unary call, failed on every endpoint.
            return (ex, !ex.IsTransient);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return (new DatastoreUnavailableException($"The watch stream from etcd at {endpoint} broke: {ex.Message}", ex), false);
        }
        catch (JsonException ex)
        {
            return (new DatastoreException($"The watch stream from etcd at {endpoint} is not valid gateway JSON: {ex.Message}", ex), true);
        }
    }

    /// <summary>
    /// etcd accepts a watch from a future revision without a word, so a store that was wiped or restored from an older
    /// backup would leave the watch waiting for revisions that will mean other changes. A member whose revision is
    /// below the last one delivered is either lagging (a linearizable read says the cluster is further on) or the
    /// store went backwards: then the watch ends with <see cref="DatastoreResetException"/>.
    /// </summary>
    private async Task<DatastoreResetException?> WentBackwardsAsync(long memberRevision, string endpoint, CancellationToken cancellationToken)
    {
        long seen = _translator.LastRevision;
        if (memberRevision <= 0 || memberRevision >= seen)
        {
            return null;
        }

        RangeResponse reply = await _transport.CallAsync(
            "watch-check", "/v3/kv/range", new RangeRequest { Key = _key, RangeEnd = _rangeEnd, CountOnly = true },
            EtcdJsonContext.Default.RangeRequest, EtcdJsonContext.Default.RangeResponse, idempotent: true, cancellationToken).ConfigureAwait(false);
        long current = reply.Header?.Revision ?? 0;
        if (current >= seen)
        {
            return null;
        }

        Log.RevisionWentBackwards(_logger, _prefix, seen, current);
        return new DatastoreResetException(
            $"etcd at {endpoint} is at revision {current}, below revision {seen} already delivered for {_prefix}: the store was wiped or restored; relist.");
    }

    private async Task<(DatastoreException? Error, bool Terminal)> CanceledAsync(WatchResponse result, int index, string endpoint, CancellationToken cancellationToken)
    {
        if (result.CompactRevision > 0)
        {
            return (new RevisionExpiredException(
                $"Cannot watch {_prefix} after revision {_translator.LastRevision}: etcd at {endpoint} is compacted at revision {result.CompactRevision}."), true);
        }

        string reason = result.CancelReason ?? "no reason given";
        if (EtcdErrors.IsInvalidToken(0, reason))
        {
            await _transport.RenewTokenAsync(index, null, cancellationToken).ConfigureAwait(false);
            return (new DatastoreUnavailableException($"etcd at {endpoint} rejected the watch's auth token."), false);
        }

        DatastoreException mapped = EtcdErrors.FromReply(HttpStatusCode.OK, 0, reason, endpoint, "watch");
        return (mapped, !mapped.IsTransient);
    }

    internal static DatastoreException MapStreamError(JsonElement error, string endpoint, out bool invalidToken)
    {
        // grpc-gateway writes {"error":{"grpc_code":14,"http_code":503,"message":"…"}}; be lenient about the shape.
        string? message = null;
        int code = 0;
        int httpCode = 200;
        if (error.ValueKind == JsonValueKind.String)
        {
            message = error.GetString();
        }
        else if (error.ValueKind == JsonValueKind.Object)
        {
            if (error.TryGetProperty("message", out JsonElement m) && m.ValueKind == JsonValueKind.String)
            {
                message = m.GetString();
            }

            if (error.TryGetProperty("grpc_code", out JsonElement g) && g.ValueKind == JsonValueKind.Number)
            {
                code = g.GetInt32();
            }
            else if (error.TryGetProperty("code", out JsonElement c) && c.ValueKind == JsonValueKind.Number)
            {
                code = c.GetInt32();
            }

            if (error.TryGetProperty("http_code", out JsonElement h) && h.ValueKind == JsonValueKind.Number)
            {
                httpCode = h.GetInt32();
            }
        }

        invalidToken = EtcdErrors.IsInvalidToken(code, message);
        return EtcdErrors.FromReply((HttpStatusCode)httpCode, code, message ?? error.GetRawText(), endpoint, "watch");
    }
}
