using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using WatcherSync.Etcd.Api;
using WatcherSync.Etcd.Diagnostics;
using WatcherSync.Etcd.Transport;

namespace WatcherSync.Etcd.Watching;

/// <summary>
/// One bidirectional Watch call to one endpoint, shared by every watch of the client on that endpoint, as
/// clientv3's watchGrpcStream. Creates are pipelined and matched to etcd's "created" replies in order (etcd answers
/// them in the order it received them); events are routed by watch id; cancel requests go by watch id. The call
/// carries <c>hasleader: true</c>, so a member that loses its leader ends the stream and every watch moves on. When
/// the stream breaks, each subscription gets the failure and its watch reconnects from its own revision; when the
/// last subscription leaves, the stream closes.
/// </summary>
/// <remarks>
/// etcd ends a hasleader stream only after about three election timeouts without a leader. While the stream is open,
/// the member's status is read every <see cref="LeaderCheckInterval"/> (a local, cheap call), so a member that has
/// lost its leader, or stopped answering, is left about as soon as it knows. Liveness is the stream's, never one
/// watch's (<see cref="StreamLiveness"/>): a quiet stream asks etcd for progress, and a stream that hears nothing for
/// the silence limit, or leaves creates unanswered past the request timeout, ends and every watch on it moves on.
/// </remarks>
internal sealed class WatchStream
{
    /// <summary>How often the member of an open stream is asked whether it still has a leader.</summary>
    public static readonly TimeSpan LeaderCheckInterval = TimeSpan.FromSeconds(1);

    private readonly WatchHub _hub;
    private readonly EtcdTransport _transport;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    private readonly Queue<WatchSubscription> _creating = new();
    private readonly Dictionary<long, WatchSubscription> _watching = [];
    private readonly Channel<WatchRequest> _outbox = Channel.CreateUnbounded<WatchRequest>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _close = new();
    private readonly CancellationTokenSource _abort;
    private readonly StreamLiveness _liveness;
    private readonly ITimer _watchdog;
    private EndpointFailure? _aborted;
    private Task _run = Task.CompletedTask;
    private bool _ended;

    private WatchStream(WatchHub hub, EtcdTransport transport, int index, long group, string? token, ILogger logger)
    {
        _hub = hub;
        _transport = transport;
        Index = index;
        Group = group;
        Token = token;
        _logger = logger;
        _abort = CancellationTokenSource.CreateLinkedTokenSource(_close.Token);
        EtcdClientOptions options = transport.Options;
        TimeSpan silence = Silence(options);
        _liveness = new StreamLiveness(transport.Time, silence, options.RequestTimeout == Timeout.InfiniteTimeSpan ? silence : options.RequestTimeout);
        _watchdog = transport.Time.CreateTimer(static s => ((WatchStream)s!).Tick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public int Index { get; }

    /// <summary>Gets the group of watches this stream carries (see <see cref="WatchHub"/>).</summary>
    public long Group { get; }

    public string? Token { get; }

    public bool Ended
    {
        get
        {
            lock (_sync)
            {
                return _ended;
            }
        }
    }

    /// <summary>
    /// Gets how long a stream may hear nothing before it is treated as dead. After sending events etcd skips the next
    /// progress notification, so a healthy stream may be silent for up to twice the interval (a quiet stream also asks
    /// for progress after half of this).
    /// </summary>
    public static TimeSpan Silence(EtcdClientOptions options) =>
        options.ProgressNotifyInterval == Timeout.InfiniteTimeSpan ? Timeout.InfiniteTimeSpan : (options.ProgressNotifyInterval * 2) + options.WatchdogSlack;

    public static WatchStream Open(WatchHub hub, EtcdTransport transport, int index, long group, string? token, ILogger logger)
    {
        var stream = new WatchStream(hub, transport, index, group, token, logger);
        stream._run = Task.Run(stream.RunAsync, CancellationToken.None);
        stream._watchdog.Change(LeaderCheckInterval, LeaderCheckInterval);
        return stream;
    }

    /// <summary>Asks etcd for a watcher; null when the stream has ended (open another).</summary>
    public WatchSubscription? Subscribe(WatchCreateRequest create)
    {
        lock (_sync)
        {
            if (_ended)
            {
                return null;
            }

            var subscription = new WatchSubscription(this);
            _creating.Enqueue(subscription);
            _liveness.CreateSent();
            _outbox.Writer.TryWrite(new WatchRequest { CreateRequest = create });
            return subscription;
        }
    }

    /// <summary>Cancels a subscription's watcher; closes the stream when nobody is left on it.</summary>
    public void Unsubscribe(WatchSubscription subscription)
    {
        lock (_sync)
        {
            if (_ended)
            {
                return;
            }

            if (subscription.Id is { } id)
            {
                if (_watching.Remove(id))
                {
                    _outbox.Writer.TryWrite(new WatchRequest { CancelRequest = new WatchCancelRequest { WatchId = id } });
                }
            }
            else
            {
                subscription.Abandoned = true;
            }

            if (_watching.Count > 0 || _creating.Any(s => !s.Abandoned))
            {
                return;
            }

            _ended = true;
        }

        _hub.Remove(this);
        _close.Cancel();
    }

    /// <summary>Ends the stream and waits for its loops.</summary>
    public async Task CloseAsync()
    {
        try
        {
            await _close.CancelAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // Already closed.
        }

        await _run.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        string endpoint = _transport.Endpoint(Index);
        EndpointFailure failure;
        try
        {
            Metadata? headers = EtcdTransport.Headers(Token, new Metadata.Entry("hasleader", "true"));
            using AsyncDuplexStreamingCall<WatchRequest, WatchResponse> call = _transport.Clients(Index).Watch.Watch(new CallOptions(headers, cancellationToken: _abort.Token));
            Log.WatchStreamOpened(_logger, endpoint);
            Task sending = SendAsync(call.RequestStream);
            Task checking = CheckLeaderAsync();
            try
            {
                while (await call.ResponseStream.MoveNext(_abort.Token).ConfigureAwait(false))
                {
                    Route(call.ResponseStream.Current);
                }

                failure = new EndpointFailure(new DatastoreUnavailableException($"The watch stream from etcd at {endpoint} ended."), notApplied: true);
            }
            finally
            {
                _outbox.Writer.TryComplete();
                await _abort.CancelAsync().ConfigureAwait(false);
                await sending.ConfigureAwait(false);
                await checking.ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (Volatile.Read(ref _aborted) is { } aborted && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
            failure = aborted;
        }
        catch (Exception ex) when (_close.IsCancellationRequested && ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
            failure = new EndpointFailure(new DatastoreUnavailableException($"The watch stream to etcd at {endpoint} was closed."), notApplied: true);
        }
        catch (RpcException ex)
        {
            failure = _transport.Map(ex, Index, "watch");
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            failure = new EndpointFailure(new DatastoreUnavailableException($"The watch stream from etcd at {endpoint} broke: {ex.Message}", ex), notApplied: true);
        }
#pragma warning disable CA1031 // Whatever breaks the stream must reach every watch on it, never vanish.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            failure = new EndpointFailure(new DatastoreException($"The watch stream from etcd at {endpoint} failed unexpectedly: {ex.Message}", ex), notApplied: true);
        }

        End(failure);
    }

    private async Task SendAsync(IClientStreamWriter<WatchRequest> writer)
    {
        try
        {
            await foreach (WatchRequest request in _outbox.Reader.ReadAllAsync(_abort.Token).ConfigureAwait(false))
            {
                await writer.WriteAsync(request, _abort.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or RpcException or IOException or InvalidOperationException)
        {
            // The stream is going; the receive side reports why.
        }
    }

    /// <summary>
    /// Ends the stream when its member has no leader or does not answer its status. A check refused for another reason
    /// (permissions, say) proves nothing either way: checking goes on, and the stream's own liveness still holds.
    /// </summary>
    private async Task CheckLeaderAsync()
    {
        string endpoint = _transport.Endpoint(Index);
        bool refusedReported = false;
        try
        {
            while (true)
            {
                await Task.Delay(LeaderCheckInterval, _transport.Time, _abort.Token).ConfigureAwait(false);
                try
                {
                    StatusResponse status = await _transport.CallOnAsync(
                        Index, "watch-leader-check", (c, o) => c.Maintenance.StatusAsync(new StatusRequest(), o).ResponseAsync, _abort.Token).ConfigureAwait(false);
                    if (status.Leader == 0)
                    {
                        Abort(new EndpointFailure(new DatastoreUnavailableException($"etcd at {endpoint} has no leader; leaving it."), notApplied: true));
                        return;
                    }

                    _liveness.MemberAnswered();
                }
                catch (EndpointFailure failure) when (failure.Error.IsTransient)
                {
                    Abort(failure);
                    return;
                }
                catch (EndpointFailure failure) when (!refusedReported)
                {
                    Log.EndpointFailed(_logger, endpoint, "watch-leader-check", failure.Error.Message);
                    refusedReported = true;
                }
                catch (EndpointFailure)
                {
                    // Reported once.
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The stream ended.
        }
    }

    /// <summary>The watchdog's tick: ends a dead stream, asks a quiet one for progress.</summary>
    private void Tick()
    {
        if (_liveness.Verdict() is { } dead)
        {
            string endpoint = _transport.Endpoint(Index);
            Log.WatchStreamDead(_logger, endpoint, dead);
            Abort(new EndpointFailure(new DatastoreUnavailableException($"The watch stream from etcd at {endpoint} {dead}."), notApplied: true));
        }
        else if (_liveness.ShouldProbe())
        {
            // Answered at once with watch id -1, outside the channel that drops progress notifications.
            _outbox.Writer.TryWrite(new WatchRequest { ProgressRequest = new WatchProgressRequest() });
        }
    }

    /// <summary>Ends the stream with <paramref name="failure"/> (the first reason wins).</summary>
    private void Abort(EndpointFailure failure)
    {
        Interlocked.CompareExchange(ref _aborted, failure, null);
        try
        {
            _abort.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // Already gone.
        }
    }

    private void Route(WatchResponse response)
    {
        _liveness.StreamHeard();
        WatchSubscription? target = null;
        lock (_sync)
        {
            if (response.Created)
            {
                _liveness.CreateAnswered();
                if (_creating.TryDequeue(out WatchSubscription? created) && !response.Canceled)
                {
                    if (created.Abandoned)
                    {
                        _outbox.Writer.TryWrite(new WatchRequest { CancelRequest = new WatchCancelRequest { WatchId = response.WatchId } });
                        created = null;
                    }
                    else
                    {
                        created.Id = response.WatchId;
                        _watching[response.WatchId] = created;
                    }
                }

                target = created is { Abandoned: false } ? created : null;
            }
            else if (_watching.TryGetValue(response.WatchId, out target) && response.Canceled)
            {
                _watching.Remove(response.WatchId);
            }
        }

        target?.Deliver(response);
    }

    private void End(EndpointFailure failure)
    {
        _watchdog.Dispose();
        List<WatchSubscription> subscribers;
        lock (_sync)
        {
            _ended = true;
            subscribers = [.. _creating, .. _watching.Values];
            _creating.Clear();
            _watching.Clear();
        }

        _outbox.Writer.TryComplete();
        _hub.Remove(this);
        Log.WatchStreamEnded(_logger, _transport.Endpoint(Index), failure.Error.Message);
        if (failure.Action == FailureAction.MessageTooLarge && subscribers.Count > 1)
        {
            // Whose reply it was is unknown: split the watches over two new streams; the one that receives the large
            // revision again breaks its stream again, until it is alone on one and fails.
            long[] halves = [_hub.NewGroup(), _hub.NewGroup()];
            for (int i = 0; i < subscribers.Count; i++)
            {
                subscribers[i].Fail(failure, halves[i % 2]);
            }

            return;
        }

        foreach (WatchSubscription subscriber in subscribers)
        {
            subscriber.Fail(failure, movedTo: null);
        }
    }
}
