using System.Threading.Channels;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using WatcherSync.Etcd.Api;
using WatcherSync.Etcd.Diagnostics;
using WatcherSync.Etcd.Keys;
using WatcherSync.Etcd.Transport;

namespace WatcherSync.Etcd.Watching;

/// <summary>
/// One watch: a watcher on the client's shared Watch stream to one endpoint, with its own revision. When the stream
/// breaks (member down, no leader, the stream silent past its watchdog) the watch subscribes again on the next endpoint from
/// the last revision it delivered, for up to <see cref="EtcdClientOptions.WatchReconnectTimeout"/>; after that it
/// ends with a transient error. Compaction and other definite failures end it at once.
/// </summary>
internal sealed class EtcdWatch : IWatch
{
    private readonly EtcdTransport _transport;
    private readonly WatchHub _hub;
    private readonly EtcdClientOptions _options;
    private readonly ILogger _logger;
    private readonly EtcdMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly string _prefix;
    private readonly ByteString _key;
    private readonly ByteString _rangeEnd;
    private readonly WatchEventTranslator _translator;
    private readonly Channel<WatchEvent> _channel;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action<EtcdWatch> _onDisposed;
    private readonly List<WatchEvent> _batch = [];
    private readonly bool _previousValues;
    private Task _run = Task.CompletedTask;
    private long? _brokenSince;
    private long _group;
    private int _disposed;

    private EtcdWatch(EtcdTransport transport, WatchHub hub, EtcdConverter converter, ILogger logger, EtcdMetrics metrics, IListOptions list, WatchOptions watchOptions, long after, bool previousValues, Action<EtcdWatch> onDisposed)
    {
        _previousValues = previousValues;
        _transport = transport;
        _hub = hub;
        _options = transport.Options;
        _logger = logger;
        _metrics = metrics;
        _time = _options.TimeProvider;
        _prefix = list.DefaultPathRoot;
        (byte[] key, byte[] rangeEnd) = converter.Keys.PrefixRange(_prefix);
        _key = UnsafeByteOperations.UnsafeWrap(key);
        _rangeEnd = UnsafeByteOperations.UnsafeWrap(rangeEnd);
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
    public static async Task<EtcdWatch> StartAsync(EtcdTransport transport, WatchHub hub, EtcdConverter converter, ILogger logger, EtcdMetrics metrics, IListOptions list, WatchOptions watchOptions, long after, bool previousValues, Action<EtcdWatch> onDisposed, CancellationToken cancellationToken)
    {
        var watch = new EtcdWatch(transport, hub, converter, logger, metrics, list, watchOptions, after, previousValues, onDisposed);
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
        // Jittered (EtcdClientOptions.WatchReconnectBackoff): the watches of a fleet broken by one etcd restart do not
        // come back in step.
        var backoff = new ExponentialBackoff(_options.WatchReconnectBackoff, _time);
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
                    backoff.Reset();
                }

                if (_time.GetElapsedTime(_brokenSince.Value) >= _options.WatchReconnectTimeout)
                {
                    await FailAsync(error).ConfigureAwait(false);
                    return;
                }

                Log.WatchReconnecting(_logger, _prefix, _translator.LastRevision, error.Message);
                _metrics.WatchReconnected();
                index = (index + 1) % _transport.EndpointCount;
                await Task.Delay(backoff.Next(TimeSpan.Zero), _time, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed.
        }
#pragma warning disable CA1031 // A bug here must end the watch with an error the consumer sees, not silently.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            var error = new DatastoreException($"The watch on {_prefix} failed unexpectedly: {ex.Message}", ex);
            Log.WatchEnded(_logger, _prefix, error.Message);
            if (!_started.TrySetException(error))
            {
                _channel.Writer.TryWrite(WatchEvent.FromError(error));
            }
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

    /// <summary>Watches on one stream; returns why it ended: null when stopped, else the error and whether it is final.</summary>
    private async Task<(DatastoreException? Error, bool Terminal)> StreamOnceAsync(int index)
    {
        string endpoint = _transport.Endpoint(index);
        long startRevision = _translator.LastRevision == 0 ? 0 : _translator.LastRevision + 1;
        var create = new WatchCreateRequest
        {
            Key = _key,
            RangeEnd = _rangeEnd,
            StartRevision = startRevision,
            ProgressNotify = true,
            PrevKv = _previousValues,
            Fragment = true,
        };

        // Liveness is the stream's (StreamLiveness): a dead stream or an unanswered create fails this subscription.
        WatchSubscription? subscription = null;
        try
        {
            subscription = await _hub.SubscribeAsync(index, _group, create, _stop.Token).ConfigureAwait(false);
            while (true)
            {
                WatchResponse response = await subscription.ReadAsync(_stop.Token).ConfigureAwait(false);
                if (response.Canceled)
                {
                    return await CanceledAsync(response, subscription, index, endpoint, _stop.Token).ConfigureAwait(false);
                }

                if (response.Created)
                {
                    if (await WentBackwardsAsync(response.Header?.Revision ?? 0, endpoint, _stop.Token).ConfigureAwait(false) is { } reset)
                    {
                        return (reset, true);
                    }

                    _translator.StartAt(response.Header?.Revision ?? 0);
                    _brokenSince = null;
                    _started.TrySetResult();
                    Log.WatchConnected(_logger, _prefix, endpoint, startRevision);
                    continue;
                }

                _batch.Clear();
                int dropped = _translator.Dropped;
                _translator.Translate(response, _batch);
                if (_translator.Dropped != dropped)
                {
                    Log.ReplayDropped(_logger, _prefix, _translator.Dropped - dropped, _translator.LastRevision);
                }

                foreach (WatchEvent watchEvent in _batch)
                {
                    if (!_channel.Writer.TryWrite(watchEvent))
                    {
                        await _channel.Writer.WriteAsync(watchEvent, _stop.Token).ConfigureAwait(false);
                    }
                }

                if (_batch.Count > 0)
                {
                    _metrics.WatchEvents(_batch.Count);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return (null, false);
        }
        catch (EndpointFailure failure)
        {
            if (_transport.CanRenew(failure))
            {
                return await RenewAsync(index, subscription?.Token, failure.Error).ConfigureAwait(false);
            }

            if (failure.Action == FailureAction.MessageTooLarge && subscription?.MovedTo is { } group)
            {
                // The large reply may have been another watch's: go on, on a stream shared with fewer watches.
                _group = group;
                return (new DatastoreUnavailableException(failure.Error.Message, failure.Error), false);
            }

            // A response over the receive limit for this watch alone would be sent again on every retry from the same
            // revision: end the watch with a permanent error (the syncer relists past it) instead of retrying for ever.
            return (failure.Error, failure.Action == FailureAction.MessageTooLarge || !failure.Error.IsTransient);
        }
        catch (DatastoreException ex)
        {
            // The revision check, a unary call, failed on every endpoint.
            return (ex, !ex.IsTransient);
        }
        finally
        {
            subscription?.Dispose();
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

        // Only the header's revision matters: one key, no range (a count over the prefix is O(keys) on etcd 3.4).
        var request = new RangeRequest { Key = _key, KeysOnly = true, Limit = 1 };
        RangeResponse reply = await _transport.CallAsync(
            "watch-check", (c, o) => c.KV.RangeAsync(request, o).ResponseAsync, idempotent: true, cancellationToken).ConfigureAwait(false);
        long current = reply.Header?.Revision ?? 0;
        if (current >= seen)
        {
            return null;
        }

        Log.RevisionWentBackwards(_logger, _prefix, seen, current);
        return new DatastoreResetException(
            $"etcd at {endpoint} is at revision {current}, below revision {seen} already delivered for {_prefix}: the store was wiped or restored; relist.");
    }

    private async Task<(DatastoreException? Error, bool Terminal)> CanceledAsync(WatchResponse response, WatchSubscription subscription, int index, string endpoint, CancellationToken cancellationToken)
    {
        if (response.CompactRevision > 0)
        {
            return (new RevisionExpiredException(
                $"Cannot watch {_prefix} after revision {_translator.LastRevision}: etcd at {endpoint} is compacted at revision {response.CompactRevision}.")
            {
                CompactRevision = response.CompactRevision,
            }, true);
        }

        // etcd 3.4 reports an auth failure of a watcher only here ("invalid auth token"), not as a gRPC status.
        string reason = string.IsNullOrEmpty(response.CancelReason) ? "no reason given" : response.CancelReason;
        EndpointFailure failure = EtcdErrors.FromMessage(StatusCode.Unknown, reason, endpoint, "watch", _options.Username);
        if (_transport.CanRenew(failure))
        {
            return await RenewAsync(index, subscription.Token, new DatastoreUnavailableException($"etcd at {endpoint} rejected the watch's auth token ({reason}).")).ConfigureAwait(false);
        }

        return (failure.Error, !failure.Error.IsTransient);
    }

    /// <summary>
    /// Authenticates again after etcd rejected the watch's token, then reconnects. A renewal that fails is the watch's
    /// failure, transient or not as the table says (a member that does not answer is tried again like any break).
    /// </summary>
    private async Task<(DatastoreException? Error, bool Terminal)> RenewAsync(int index, string? staleToken, DatastoreException rejected)
    {
        try
        {
            await _transport.RenewTokenAsync(index, staleToken, _stop.Token).ConfigureAwait(false);
            return (rejected, false);
        }
        catch (EndpointFailure renewal)
        {
            return (renewal.Error, !renewal.Error.IsTransient);
        }
    }
}
