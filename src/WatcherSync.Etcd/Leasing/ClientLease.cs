using Microsoft.Extensions.Logging;
using WatcherSync.Etcd.Api;
using WatcherSync.Etcd.Diagnostics;
using WatcherSync.Etcd.Transport;

namespace WatcherSync.Etcd.Leasing;

/// <summary>
/// The lease that lives as long as the client: granted on first use, kept alive at a third of its TTL, revoked on
/// dispose (so keys written with it vanish with the client). When etcd lets it expire anyway (the client was cut off
/// for longer than the TTL, or someone revoked it), the next use grants a new one.
/// </summary>
internal sealed class ClientLease : IAsyncDisposable
{
    private readonly EtcdTransport _transport;
    private readonly EtcdClientOptions _options;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _grantLock = new(1, 1);
    private readonly CancellationTokenSource _stop = new();
    private Task _keepAlive = Task.CompletedTask;
    private long _id;

    public ClientLease(EtcdTransport transport, EtcdClientOptions options, ILogger logger)
    {
        _transport = transport;
        _options = options;
        _logger = logger;
    }

    /// <summary>Gets the lease id, granting the lease first when there is none.</summary>
    /// <exception cref="ObjectDisposedException">The client is being disposed.</exception>
    public async ValueTask<long> GetAsync(CancellationToken cancellationToken)
    {
        long id = Interlocked.Read(ref _id);
        if (id != 0)
        {
            return id;
        }

        await _grantLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_id != 0)
            {
                return _id;
            }

            ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
            await _keepAlive.ConfigureAwait(false);
            var request = new LeaseGrantRequest { TTL = (long)Math.Ceiling(_options.ClientLeaseTtl.TotalSeconds) };
            LeaseGrantResponse granted = await _transport.CallAsync(
                "lease-grant", (c, o) => c.Lease.LeaseGrantAsync(request, o).ResponseAsync, idempotent: false, cancellationToken).ConfigureAwait(false);
            if (_stop.IsCancellationRequested)
            {
                // Disposed while granting: the dispose is waiting on this lock and revokes what is set here.
                Interlocked.Exchange(ref _id, granted.ID);
                throw new ObjectDisposedException(nameof(EtcdBackendClient));
            }

            Interlocked.Exchange(ref _id, granted.ID);
            _keepAlive = Task.Run(() => KeepAliveAsync(granted.ID), CancellationToken.None);
            return granted.ID;
        }
        finally
        {
            _grantLock.Release();
        }
    }

    /// <summary>Forgets <paramref name="id"/> after etcd said it no longer exists, so that the next use grants a new lease.</summary>
    public void Forget(long id)
    {
        if (Interlocked.CompareExchange(ref _id, 0, id) == id)
        {
            Log.ClientLeaseGone(_logger, id);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _keepAlive.ConfigureAwait(false);

        // A grant in flight finishes first, so its lease is revoked here and not left to expire.
        await _grantLock.WaitAsync().ConfigureAwait(false);
        long id = Interlocked.Exchange(ref _id, 0);
        _grantLock.Release();
        if (id != 0)
        {
            await RevokeAsync(_transport, id, _logger, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Revokes a lease, logging instead of throwing: a lease that cannot be revoked still expires.</summary>
    public static async Task RevokeAsync(EtcdTransport transport, long id, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            var request = new LeaseRevokeRequest { ID = id };
            await transport.CallAsync(
                "lease-revoke", (c, o) => c.Lease.LeaseRevokeAsync(request, o).ResponseAsync, idempotent: true, cancellationToken).ConfigureAwait(false);
        }
        catch (DatastoreException ex)
        {
            Log.RevokeFailed(logger, id, ex.Message);
        }
    }

    private async Task KeepAliveAsync(long id)
    {
        TimeSpan period = _options.ClientLeaseTtl / 3;
        try
        {
            while (true)
            {
                await Task.Delay(period, _options.TimeProvider, _stop.Token).ConfigureAwait(false);
                try
                {
                    LeaseKeepAliveResponse reply = await _transport.CallAsync("lease-keepalive", (c, o) => KeepAliveOnceAsync(c, o, id), idempotent: true, _stop.Token).ConfigureAwait(false);
                    if (reply.TTL <= 0)
                    {
                        Log.ClientLeaseLost(_logger, id);
                        Interlocked.CompareExchange(ref _id, 0, id);
                        return;
                    }
                }
                catch (DatastoreException ex)
                {
                    Log.KeepAliveFailed(_logger, id, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed: the lease is revoked next.
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
}
