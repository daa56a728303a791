using Microsoft.Extensions.Logging;
using WatcherSync.Etcd.Api;
using WatcherSync.Etcd.Diagnostics;
using WatcherSync.Etcd.Transport;

namespace WatcherSync.Etcd.Leasing;

/// <summary>
/// The lease that lives as long as the client: granted on first use, kept alive (<see cref="LeaseHealth"/>: every
/// third of the TTL, again after 500 ms when a keepalive fails), revoked on dispose (so keys written with it vanish with
/// the client). When etcd says the lease is gone anyway (the client was cut off for longer than the TTL, or someone
/// revoked it), the keys written with it are gone: the application is told (<c>onLost</c>, a log and a metric), and the
/// next client-lifetime write grants a new lease at once. The keys are not written again by the client: it does not
/// keep their values, and writing them again could undo a newer write of another client.
/// </summary>
internal sealed class ClientLease : IAsyncDisposable
{
    private readonly EtcdTransport _transport;
    private readonly EtcdClientOptions _options;
    private readonly ILogger _logger;
    private readonly Action<long> _onLost;
    private readonly SemaphoreSlim _grantLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _sync = new();

    // Invariants (under _sync): _current is the lease in use or null; every keepalive loop that has not finished is in
    // _loops (finished ones are dropped when a new one starts, so a client that loses many leases holds at most the
    // loops still running) until dispose awaits it; a lease leaves _current once (forgotten, lost or disposed), and its
    // loop is stopped then.
    private readonly List<Task> _loops = [];
    private Held? _current;

    public ClientLease(EtcdTransport transport, EtcdClientOptions options, ILogger logger, Action<long> onLost)
    {
        _transport = transport;
        _options = options;
        _logger = logger;
        _onLost = onLost;
    }

    /// <summary>Gets the lease id, granting the lease first when there is none.</summary>
    /// <exception cref="ObjectDisposedException">The client is being disposed.</exception>
    public async ValueTask<long> GetAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _current) is { } held)
        {
            return held.Id;
        }

        await _grantLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (Volatile.Read(ref _current) is { } granted)
            {
                return granted.Id;
            }

            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            var request = new LeaseGrantRequest { TTL = (long)Math.Ceiling(_options.ClientLeaseTtl.TotalSeconds) };
            LeaseGrantResponse reply = await _transport.CallAsync(
                "lease-grant", (c, o) => c.Lease.LeaseGrantAsync(request, o).ResponseAsync, idempotent: false, cancellationToken).ConfigureAwait(false);
            var lease = new Held(reply.ID, new LeaseHealth(_options.TimeProvider, _options.ClientLeaseTtl, _options.RequestTimeout), _stop.Token);
            lock (_sync)
            {
                // Disposed while granting: the dispose is waiting on the grant lock and revokes what is set here.
                _current = lease;
                _loops.RemoveAll(static loop => loop.IsCompleted);
                _loops.Add(Task.Run(() => KeepAliveAsync(lease), CancellationToken.None));
            }

            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            return lease.Id;
        }
        finally
        {
            _grantLock.Release();
        }
    }

    /// <summary>Forgets <paramref name="id"/> after etcd said it no longer exists, so that the next use grants a new lease.</summary>
    public void Forget(long id)
    {
        if (Release(id))
        {
            Log.ClientLeaseGone(_logger, id);
            _onLost(id);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);

        // A grant in flight finishes first, so its lease is revoked here and not left to expire.
        await _grantLock.WaitAsync().ConfigureAwait(false);
        Held? last;
        Task[] loops;
        lock (_sync)
        {
            last = _current;
            _current = null;
            loops = [.. _loops];
        }

        _grantLock.Release();
        await Task.WhenAll(loops).ConfigureAwait(false);
        if (last is not null)
        {
            last.Dispose();
            await RevokeAsync(_transport, last.Id, _logger).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Revokes a lease, logging instead of throwing: a lease that cannot be revoked still expires. It takes at most
    /// <see cref="RevokeBound"/> in all (not a request timeout per endpoint), so a dispose never hangs on it.
    /// </summary>
    public static async Task RevokeAsync(EtcdTransport transport, long id, ILogger logger)
    {
        TimeSpan bound = RevokeBound(transport.Options.RequestTimeout);
        using var deadline = new CallDeadline(transport.Time, bound, CancellationToken.None);
        try
        {
            var request = new LeaseRevokeRequest { ID = id };
            await transport.CallAsync(
                "lease-revoke", (c, o) => c.Lease.LeaseRevokeAsync(request, o).ResponseAsync, idempotent: true, deadline.Token).ConfigureAwait(false);
        }
        catch (DatastoreException ex)
        {
            Log.RevokeFailed(logger, id, ex.Message);
        }
        catch (OperationCanceledException) when (deadline.Expired)
        {
            Log.RevokeFailed(logger, id, $"no answer within {bound.TotalSeconds:0.###} s");
        }
    }

    /// <summary>How long a revoke may take in all: the request timeout, or 10 s when that is infinite.</summary>
    internal static TimeSpan RevokeBound(TimeSpan requestTimeout) =>
        requestTimeout == Timeout.InfiniteTimeSpan ? TimeSpan.FromSeconds(10) : requestTimeout;

    /// <summary>Takes <paramref name="id"/> out of use and stops its keepalive; false when it was not in use.</summary>
    private bool Release(long id)
    {
        Held? released;
        lock (_sync)
        {
            if (_current is not { } current || current.Id != id)
            {
                return false;
            }

            released = current;
            _current = null;
        }

        released.Dispose();
        return true;
    }

    private async Task KeepAliveAsync(Held lease)
    {
        LeaseHealth health = lease.Health;
        CancellationToken stop = lease.Stop;
        try
        {
            while (true)
            {
                await Task.Delay(health.NextDelay, _options.TimeProvider, stop).ConfigureAwait(false);
                try
                {
                    // The attempt's deadline is the transport's timeout, not a cancellation: a member that does not
                    // answer in time is left, and the keepalive goes to the next one.
                    LeaseKeepAliveResponse reply = await _transport.CallAsync(
                        "lease-keepalive", (c, o) => KeepAliveOnceAsync(c, o, lease.Id), idempotent: true, stop, health.AttemptTimeout).ConfigureAwait(false);
                    if (reply.TTL <= 0)
                    {
                        Lost(lease.Id);
                        return;
                    }

                    health.Confirmed();
                }
                catch (DatastoreException ex) when (EtcdErrors.IsLeaseNotFound(ex))
                {
                    Lost(lease.Id);
                    return;
                }
                catch (Exception ex) when (!stop.IsCancellationRequested)
                {
                    // A timeout, an unreachable cluster, or a bug: whatever it was, the next attempt comes soon; the
                    // loop never ends but by dispose or a lost lease (a faulted loop would leave the lease to expire).
                    health.Failed();
                    Log.KeepAliveFailed(_logger, lease.Id, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Disposed (the lease is revoked next) or released (a new one is granted on the next use).
        }
    }

    private void Lost(long id)
    {
        if (Release(id))
        {
            Log.ClientLeaseLost(_logger, id);
            _onLost(id);
        }
    }

    /// <summary>One keepalive on etcd's LeaseKeepAlive stream: one request, one reply.</summary>
    private static async Task<LeaseKeepAliveResponse> KeepAliveOnceAsync(EtcdClients clients, Grpc.Core.CallOptions options, long id)
    {
        using Grpc.Core.AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse> call = clients.Lease.LeaseKeepAlive(options);
        await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = id }).ConfigureAwait(false);
        await call.RequestStream.CompleteAsync().ConfigureAwait(false);
        return await call.ResponseStream.MoveNext(options.CancellationToken).ConfigureAwait(false)
            ? call.ResponseStream.Current
            : throw new DatastoreUnavailableException("etcd closed the keepalive stream without a reply.");
    }

    /// <summary>A lease in use: its id, its health and the token that stops its keepalive.</summary>
    private sealed class Held : IDisposable
    {
        private readonly CancellationTokenSource _stop;

        public Held(long id, LeaseHealth health, CancellationToken clientStop)
        {
            Id = id;
            Health = health;
            _stop = CancellationTokenSource.CreateLinkedTokenSource(clientStop);
            Stop = _stop.Token;
        }

        public long Id { get; }

        public LeaseHealth Health { get; }

        public CancellationToken Stop { get; }

        public void Dispose() => _stop.Cancel();
    }
}
