using System.Runtime.CompilerServices;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using WatcherSync.Relay.Protocol;

namespace WatcherSync.Relay.Server;

/// <summary>
/// One client's subscription: reads its hello, sends the shared snapshot and then the feed's log from its own
/// cursor, pings it, and cuts it off when it falls further behind than the log holds, stops reading for longer
/// than the write timeout, or goes silent. It holds no queue of its own: a client costs a cursor and the
/// transport's flow-control window, whatever it does.
/// </summary>
internal sealed class RelayConnection : IDisposable
{
    private const int MaxEntriesPerRead = 256;
    /// <summary>
    /// The slowest read rate the relay assumes of a live client: a pong may wait behind everything sent before its
    /// ping, so a client is judged silent only after PingTimeout plus the time to read, at this rate, what was sent to
    /// it since it was last heard. A dead client is still found: within PingTimeout plus that backlog's time, or at
    /// WriteTimeout once its window is full.
    /// </summary>
    private const double MinReadBytesPerSecond = 256 * 1024;
    /// <summary>
    /// How many bytes of snapshot chunks may be written to the response before it is flushed. A flush hands the data to
    /// the HTTP/2 connection as frames and waits on flow control; flushing each 16 KiB chunk cost the relay most of its
    /// CPU per snapshot. Batching up to this much keeps what waits in the response pipe under the largest delta message
    /// (<see cref="DeltaPacker.MaxDeltaBytes"/>) plus one chunk, so that the memory bound per client does not move.
    /// </summary>
    private const int FlushBytes = DeltaPacker.MaxDeltaBytes;
    private static readonly WriteOptions Buffered = new(WriteFlags.BufferHint);
    private const string SupersededDetail =
        "Cut off: the snapshot this client was reading was superseded while more than MaxSupersededSnapshots superseded snapshots were being read; reconnect and take the latest.";

    private readonly RelayHost _host;
    private readonly RelayServerOptions _options;
    private readonly IAsyncStreamReader<ClientMessage> _requests;
    private readonly IServerStreamWriter<ServerMessage> _responses;
    private readonly HttpContext _http;
    private readonly ILogger _logger;
    private readonly RelayServerMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _cancel;
    private readonly string _peer;
    private TaskCompletionSource _nudge = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private StrongBox<Status>? _fault;
    private MoveRequest? _moveAway;
    private FeedSnapshot? _reading;
    private long _cursor;
    private long _lastHeard;
    private long _sentSinceHeard;
    private long _lastPing;
    private long _writeStarted;

    // Bytes written to the response since its last flush; at most FlushBytes plus one message. Touched by the send loop only.
    private long _unflushed;
    private ulong _pingId;
    private long _pingsSent;
    private string _client = "(no hello yet)";
    private string _requestedFeed = "(no hello yet)";
    private bool[] _wanted = [];

    // Set (to the metrics the compression is counted on) when the client accepts the relay's encoding and the relay
    // has compression on: it is then sent the shared compressed forms of chunks where they pay.
    private RelayServerMetrics? _compressFor;

    public RelayConnection(RelayHost host, IAsyncStreamReader<ClientMessage> requests, IServerStreamWriter<ServerMessage> responses, ServerCallContext context)
    {
        _host = host;
        _options = host.Options;
        _requests = requests;
        _responses = responses;
        _http = context.GetHttpContext();
        _logger = host.Logger;
        _metrics = host.Metrics;
        _time = _options.TimeProvider;
        _peer = context.Peer;
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, host.Stopping);
        _lastHeard = _time.GetTimestamp();
        _lastPing = _lastHeard;
        Id = host.Connections.NextId();
        Transport = _http.Features.Get<IConnectionLifetimeFeature>();
    }

    /// <summary>Gets the connection's number: a newer connection has a higher one.</summary>
    public long Id { get; }

    /// <summary>Gets whether the connection has been asked to end, or is ending.</summary>
    public bool Leaving => Volatile.Read(ref _fault) is not null || Volatile.Read(ref _moveAway) is not null;

    /// <summary>Gets how many pings were sent to the client.</summary>
    public long PingsSent => Interlocked.Read(ref _pingsSent);

    /// <summary>Gets the feed subscribed to (null before the hello).</summary>
    public RelayFeed? Feed { get; private set; }

    /// <summary>Gets the sequence number of the last log entry sent (or of the snapshot).</summary>
    public long Cursor => Volatile.Read(ref _cursor);

    public string ClientName => _client;

    public async Task RunAsync()
    {
        CancellationToken token = _cancel.Token;
        TimeSpan tick = Min(_options.PingInterval, Min(_options.PingTimeout, Min(_options.WriteTimeout, _options.HelloTimeout))) / 4;
        using ITimer watchdog = _time.CreateTimer(static state => ((RelayConnection)state!).Watch(), this, tick, tick);
        try
        {
            Hello hello = await ReadHelloAsync(token).ConfigureAwait(false);
            RelayFeed feed = Accept(hello);
            Feed = feed;
            _host.Connections.Add(this);
            RelayServerLog.ClientSubscribed(_logger, _client, _peer, feed.Name);
            Task reading = ReadLoopAsync(token);
            try
            {
                await SendLoopAsync(feed, hello, token).ConfigureAwait(false);
            }
            finally
            {
                await _cancel.CancelAsync().ConfigureAwait(false);
                await reading.ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (_fault is { } fault && ex is OperationCanceledException or IOException or RpcException or InvalidOperationException)
        {
            throw new RpcException(fault.Value);
        }
        catch (OperationCanceledException) when (_http.RequestAborted.IsCancellationRequested || _host.Stopping.IsCancellationRequested)
        {
            // The client went away, or the relay is stopping.
        }
        finally
        {
            _host.Connections.Remove(this);
            RelayServerLog.ClientLeft(_logger, _client, _peer);
        }
    }

    public void Dispose() => _cancel.Dispose();

    /// <summary>
    /// Asks the connection to end with <c>Unavailable</c> and <paramref name="detail"/> before its next message (at once
    /// when it is idle), so that the client moves to another relay. A write already under way is not cut short: the
    /// status follows whole messages only.
    /// </summary>
    public void MoveAway(string detail, string reason)
    {
        Interlocked.CompareExchange(ref _moveAway, new MoveRequest(detail, reason), null);
        Interlocked.Exchange(ref _nudge, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>
    /// Gets the client's HTTP/2 connection (the transport's, which outlives this call), to close it when the relay stops:
    /// a client that stopped reading does not close it, and a graceful stop of the server waits for every connection to
    /// close (until the host's shutdown timeout).
    /// </summary>
    public IConnectionLifetimeFeature? Transport { get; }

    /// <summary>Ends the connection now, resetting the stream (a write to the client may be blocked for good).</summary>
    public void Abort(string detail, string reason) => CutOff(StatusCode.Unavailable, detail, reason, abort: true);

    private async Task<Hello> ReadHelloAsync(CancellationToken token)
    {
        (Hello? hello, ClientHello.Refusal? refusal) = await ClientHello.ReadAsync(_requests, token).ConfigureAwait(false);
        Volatile.Write(ref _lastHeard, _time.GetTimestamp());
        return refusal is { } r ? throw Refuse(r) : hello!;
    }

    private RelayFeed Accept(Hello hello)
    {
        _client = string.IsNullOrWhiteSpace(hello.ClientName) ? "(unnamed)" : hello.ClientName[..Math.Min(hello.ClientName.Length, 128)];
        _requestedFeed = hello.Feed[..Math.Min(hello.Feed.Length, 128)];
        if (ClientHello.Resolve(_host, hello, out RelayFeed? feed, out _wanted) is { } refusal)
        {
            throw Refuse(refusal);
        }

        if (_options.Compression && hello.AcceptEncodings.Contains(ChunkCompressor.Encoding))
        {
            _compressFor = _metrics;
        }

        return feed!;
    }

    private async Task SendLoopAsync(RelayFeed feed, Hello hello, CancellationToken token)
    {
        ResumePoint? resume = hello.Position is { } position ? await TryResumeAsync(feed, position, token).ConfigureAwait(false) : null;
        if (resume is { } point)
        {
            await ResumeAsync(feed, point, token).ConfigureAwait(false);
        }
        else
        {
            // In a method of its own, so that nothing in this one's state keeps the snapshot alive once it is sent.
            await SendPinnedSnapshotAsync(feed, token).ConfigureAwait(false);
        }

        var entries = new List<LogEntry>(MaxEntriesPerRead);
        while (true)
        {
            token.ThrowIfCancellationRequested();
            Task nudged = Volatile.Read(ref _nudge).Task;
            ThrowIfMovedAway();
            await PingIfDueAsync(token).ConfigureAwait(false);
            entries.Clear();
            long cursor = Cursor;
            if (!feed.TryRead(cursor, entries, MaxEntriesPerRead))
            {
                throw CutOff(StatusCode.ResourceExhausted, $"Cut off: the client fell behind by more than the relay's log holds ({_options.MaxLogEntries} entries, {_options.MaxLogBytes} bytes); reconnect and resync.", "behind", abort: false);
            }

            if (entries.Count == 0)
            {
                if (feed.IsClosed)
                {
                    throw CutOff(StatusCode.Unavailable, "The relay is shutting down.", "stopping", abort: false);
                }

                await Task.WhenAny(feed.WaitAsync(cursor), nudged).WaitAsync(token).ConfigureAwait(false);
                continue;
            }

            await SendEntriesAsync(entries, token).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits for a turn to receive a snapshot (pinging the client meanwhile; admission control bounds how many are sent at
    /// once), then pins the latest snapshot and sends it.
    /// </summary>
    private async Task SendPinnedSnapshotAsync(RelayFeed feed, CancellationToken token)
    {
        SnapshotAdmission admission = _host.Admission;
        if (admission.InFlight >= admission.Limit)
        {
            RelayServerLog.WaitingForSnapshot(_logger, _client, _peer, admission.InFlight, admission.Limit, admission.Waiting + 1);
        }

        if (!await admission.EnterAsync(_options.SnapshotAdmissionTimeout, Min(_options.PingInterval, TimeSpan.FromSeconds(1)), _time, PingAsync, token).ConfigureAwait(false))
        {
            throw CutOff(
                StatusCode.ResourceExhausted,
                $"Cut off: no turn to receive a snapshot within {_options.SnapshotAdmissionTimeout.TotalSeconds:0.#} s (at most {admission.Limit} are sent at once); try another relay or back off.",
                "busy",
                abort: false);
        }

        try
        {
            FeedSnapshot snapshot = await feed.PinSnapshotAsync(token).ConfigureAwait(false);
            try
            {
                Volatile.Write(ref _reading, snapshot);
                await SendSnapshotAsync(feed, snapshot, token).ConfigureAwait(false);
            }
            finally
            {
                // The snapshot is no longer this client's to keep alive, whatever happened.
                Volatile.Write(ref _reading, null);
                feed.Unpin(snapshot);
            }
        }
        finally
        {
            admission.Exit();
        }
    }

    /// <summary>
    /// Finds where the feed can continue a client at <paramref name="position"/>, or null (it takes a snapshot). A feed
    /// that has never been in sync (a relay just started, still listing) is waited for, at most <c>HelloTimeout</c>,
    /// pinging the client every second meanwhile (its silence bound before a welcome is its own, unknown here): the
    /// client is then continued from the end of that first list rather than sent a snapshot of a partial picture.
    /// </summary>
    private async Task<ResumePoint?> TryResumeAsync(RelayFeed feed, Position position, CancellationToken token)
    {
        long started = _time.GetTimestamp();
        TimeSpan step = Min(_options.PingInterval, TimeSpan.FromSeconds(1));
        while (!feed.FirstInSync.IsCompleted && _time.GetElapsedTime(started) < _options.HelloTimeout)
        {
            try
            {
                await feed.FirstInSync.WaitAsync(step, _time, token).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                await PingAsync(token).ConfigureAwait(false);
            }
        }

        return feed.TryResume(position, _wanted);
    }

    /// <summary>
    /// Continues a client from the point of the log where the feed's picture is the client's: a welcome that says so,
    /// then the log from there, with no snapshot.
    /// </summary>
    private async Task ResumeAsync(RelayFeed feed, ResumePoint resume, CancellationToken token)
    {
        Welcome welcome = NewWelcome(feed, resume.Sequence);
        welcome.Resumed = true;
        welcome.Status = RelayProtocol.ToWire(resume.Status);
        await WriteAsync(new ServerMessage { Welcome = welcome }, token).ConfigureAwait(false);
        _metrics.Resumed(resume.By);
        RelayServerLog.ClientResumed(_logger, _client, _peer, feed.Name, resume.Sequence, resume.By);
    }

    /// <summary>A welcome for a client that is, from now on, at <paramref name="sequence"/> (the cursor is moved there).</summary>
    private Welcome NewWelcome(RelayFeed feed, long sequence)
    {
        (long head, long revision, long[] bucketRevisions) = feed.Head;

        // From here the client is at this sequence: it is behind only once the log has dropped what follows.
        Volatile.Write(ref _cursor, sequence);
        var welcome = new Welcome
        {
            ProtocolVersion = RelayProtocol.Version,
            ServerName = _options.ServerName,
            Feed = feed.Name,
            SnapshotSequence = (ulong)sequence,
            PingIntervalMs = (uint)Math.Min(uint.MaxValue, _options.PingInterval.TotalMilliseconds),
            HeadSequence = (ulong)head,
            Revision = (ulong)revision,
            LogId = feed.LogId,
            DatastoreEpoch = feed.DatastoreEpoch,
        };
        welcome.Prefixes.AddRange(feed.Prefixes);
        welcome.BucketRevisions.AddRange(bucketRevisions.Select(static r => (ulong)r));
        return welcome;
    }

    private async Task SendSnapshotAsync(RelayFeed feed, FeedSnapshot snapshot, CancellationToken token)
    {
        await WriteAsync(new ServerMessage { Welcome = NewWelcome(feed, snapshot.Sequence) }, token, more: true).ConfigureAwait(false);
        for (int bucket = 0; bucket < snapshot.Chunks.Length; bucket++)
        {
            if (!_wanted[bucket])
            {
                continue;
            }

            ByteString[] chunks = snapshot.Chunks[bucket];
            for (int index = 0; index < chunks.Length; index++)
            {
                if (snapshot.Evicted)
                {
                    throw CutOff(StatusCode.ResourceExhausted, SupersededDetail, "superseded", abort: false);
                }

                // Liveness holds in every phase: a client reading a long snapshot is pinged like any other.
                await PingIfDueAsync(token).ConfigureAwait(false);
                var chunk = new SnapshotChunk { Sequence = (ulong)snapshot.Sequence, Entries = chunks[index] };
                if (_compressFor is { } metrics)
                {
                    (ByteString bytes, bool compressed) = snapshot.Compressed.Get(bucket, index, metrics);
                    chunk.Entries = bytes;
                    chunk.Encoding = compressed ? ChunkCompressor.Encoding : string.Empty;
                    metrics.Compression(chunks[index].Length, bytes.Length);
                }

                await WriteAsync(new ServerMessage { SnapshotChunk = chunk }, token, more: true).ConfigureAwait(false);
            }
        }

        await WriteAsync(
            new ServerMessage { SnapshotChunk = new SnapshotChunk { Sequence = (ulong)snapshot.Sequence, Last = true, Status = RelayProtocol.ToWire(snapshot.Status) } },
            token).ConfigureAwait(false);
        _metrics.SnapshotSent();
    }

    private async Task PingIfDueAsync(CancellationToken token)
    {
        if (_time.GetElapsedTime(Volatile.Read(ref _lastPing)) >= _options.PingInterval)
        {
            await PingAsync(token).ConfigureAwait(false);
        }
    }

    private Task PingAsync(CancellationToken token)
    {
        Volatile.Write(ref _lastPing, _time.GetTimestamp());
        Interlocked.Increment(ref _pingsSent);
        return WriteAsync(new ServerMessage { Ping = new Ping { Id = ++_pingId } }, token);
    }

    private void ThrowIfMovedAway()
    {
        if (Volatile.Read(ref _moveAway) is { } away)
        {
            throw CutOff(StatusCode.Unavailable, away.Detail, away.Reason, abort: false);
        }
    }

    /// <summary>Sends log entries as <see cref="DeltaPacker"/> packs them; the cursor moves past each entry once it is wholly sent.</summary>
    private async Task SendEntriesAsync(List<LogEntry> entries, CancellationToken token)
    {
        foreach (DeltaPacker.Packed packed in DeltaPacker.Pack(entries, _wanted, Cursor, _compressFor))
        {
            if (packed.Message is { } message)
            {
                await WriteAsync(message, token).ConfigureAwait(false);
            }

            Volatile.Write(ref _cursor, packed.Completed);
            if (packed.Split)
            {
                // Liveness holds between the messages of one large entry too.
                await PingIfDueAsync(token).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="message"/>, flushed unless <paramref name="more"/> says more messages follow at once and
    /// fewer than <see cref="FlushBytes"/> are waiting with it (then it goes out with the next flush: a snapshot's last
    /// chunk, a ping, every other message is flushed).
    /// </summary>
    private async Task WriteAsync(ServerMessage message, CancellationToken token, bool more = false)
    {
        token.ThrowIfCancellationRequested();
        ThrowIfMovedAway();
        int size = message.CalculateSize();
        bool flush = !more || _unflushed + size >= FlushBytes;
        _responses.WriteOptions = flush ? null : Buffered;
        Volatile.Write(ref _writeStarted, _time.GetTimestamp());
        await _responses.WriteAsync(message, token).ConfigureAwait(false);
        Volatile.Write(ref _writeStarted, 0);
        _unflushed = flush ? 0 : _unflushed + size;
        Interlocked.Add(ref _sentSinceHeard, size);
        _metrics.BytesSent(size);
    }

    private async Task ReadLoopAsync(CancellationToken token)
    {
        try
        {
            while (await _requests.MoveNext(token).ConfigureAwait(false))
            {
                Volatile.Write(ref _lastHeard, _time.GetTimestamp());
                Interlocked.Exchange(ref _sentSinceHeard, 0);
                if (_requests.Current.KindCase != ClientMessage.KindOneofCase.Pong)
                {
                    CutOff(StatusCode.InvalidArgument, $"Unexpected {_requests.Current.KindCase} after the hello; only pongs may follow it.", "malformed", abort: false);
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or RpcException)
        {
            if (!token.IsCancellationRequested)
            {
                CutOff(StatusCode.InvalidArgument, "A message from the client could not be read: " + ex.Message, "malformed", abort: false);
            }
        }
    }

    /// <summary>The watchdog: runs on a timer, never blocks, and ends the connection when a bound is passed.</summary>
    private void Watch()
    {
        if (_cancel.IsCancellationRequested)
        {
            return;
        }

        long writeStarted = Volatile.Read(ref _writeStarted);
        if (writeStarted != 0 && _time.GetElapsedTime(writeStarted) > _options.WriteTimeout)
        {
            CutOff(StatusCode.ResourceExhausted, $"Cut off: the client read nothing for {_options.WriteTimeout.TotalSeconds:0.#} s.", "stalled", abort: true);
            return;
        }

        if (writeStarted != 0 && Volatile.Read(ref _reading) is { Evicted: true })
        {
            // Blocked in a write of a snapshot the feed has given up: the stream is reset so that the snapshot (and the
            // data queued for the client) can be freed now, not when the client reads again.
            CutOff(StatusCode.ResourceExhausted, SupersededDetail, "superseded", abort: true);
            return;
        }

        TimeSpan silenceLimit = Feed is null
            ? _options.HelloTimeout
            : _options.PingTimeout + TimeSpan.FromSeconds(Interlocked.Read(ref _sentSinceHeard) / MinReadBytesPerSecond);
        if (_time.GetElapsedTime(Volatile.Read(ref _lastHeard)) > silenceLimit)
        {
            CutOff(StatusCode.DeadlineExceeded, Feed is null ? "No hello in time." : "No pong in time.", Feed is null ? "no-hello" : "silent", abort: Feed is not null);
            return;
        }

        if (Feed is { } feed && writeStarted != 0 && Cursor + 1 < feed.FirstSequence)
        {
            // Blocked in a write and already past the log: waiting for the write timeout would only hold the client's
            // window open longer.
            CutOff(StatusCode.ResourceExhausted, "Cut off: the client fell behind by more than the relay's log holds.", "behind", abort: true);
            return;
        }

        if (_time.GetElapsedTime(Volatile.Read(ref _lastPing)) >= _options.PingInterval)
        {
            Interlocked.Exchange(ref _nudge, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        }
    }

    private RpcException Refuse(ClientHello.Refusal refusal)
    {
        _metrics.Refused(refusal.Reason);
        RelayServerLog.ClientRefused(_logger, _client, _peer, _requestedFeed, refusal.Code, refusal.Detail);
        return new RpcException(new Status(refusal.Code, refusal.Detail));
    }

    private RpcException CutOff(StatusCode code, string detail, string reason, bool abort)
    {
        var status = new StrongBox<Status>(new Status(code, detail));
        if (Interlocked.CompareExchange(ref _fault, status, null) is null)
        {
            if (reason is "shed" or "drained")
            {
                // Not a fault of the client's: it is moved to another relay, and says nothing worth a warning.
                _metrics.CutOff(reason);
                RelayServerLog.ClientMovedAway(_logger, _client, _peer, reason, code, detail);
            }
            else if (reason != "stopping")
            {
                _metrics.CutOff(reason);
                RelayServerLog.ClientCutOff(_logger, _client, _peer, code, detail);
            }

            try
            {
                _cancel.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }

            if (abort)
            {
                // The client is not reading (or is gone): a status could not reach it past the data it has not read,
                // so the stream is reset, which frees its buffers at once.
                _http.Abort();
            }
        }

        return new RpcException(_fault!.Value);
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private sealed record MoveRequest(string Detail, string Reason);
}
