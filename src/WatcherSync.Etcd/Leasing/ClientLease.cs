using Microsoft.Extensions.Logging;
using WatcherSync.Etcd.Diagnostics;
using WatcherSync.Etcd.Gateway;

namespace WatcherSync.Etcd.Leasing;

/// <summary>
/// The lease that lives as long as the client: granted on first use, kept alive at a third of its TTL, revoked on
/// dispose (so keys written with it vanish with the client). When etcd lets it expire anyway (the client was cut off
/// for longer than the TTL), the next use grants a new one.
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
            LeaseGrantResponse granted = await _transport.CallAsync(
                "lease-grant",
                "/v3/lease/grant",
                new LeaseGrantRequest { Ttl = (long)Math.Ceiling(_options.ClientLeaseTtl.TotalSeconds) },
                EtcdJsonContext.Default.LeaseGrantRequest,
                EtcdJsonContext.Default.LeaseGrantResponse,
                idempotent: false,
                cancellationToken).ConfigureAwait(false);
            Interlocked.Exchange(ref _id, granted.Id);
            _keepAlive = Task.Run(() => KeepAliveAsync(granted.Id), CancellationToken.None);
            return granted.Id;
        }
        finally
        {
            _grantLock.Release();
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
        long id = Interlocked.Exchange(ref _id, 0);
        if (id != 0)
        {
            await RevokeAsync(_transport, id, _logger, CancellationToken.None).ConfigureAwait(false);
        }

        _grantLock.Dispose();
        _stop.Dispose();
    }

    /// <summary>Revokes a lease, logging instead of throwing: a lease that cannot be revoked still expires.</summary>
    public static async Task RevokeAsync(EtcdTransport transport, long id, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            await transport.CallAsync(
                "lease-revoke",
                "/v3/lease/revoke",
                new LeaseIdRequest { Id = id },
                EtcdJsonContext.Default.LeaseIdRequest,
                EtcdJsonContext.Default.LeaseRevokeResponse,
                idempotent: true,
                cancellationToken).ConfigureAwait(false);
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
                    LeaseKeepAliveReply reply = await _transport.CallAsync(
                        "lease-keepalive",
                        "/v3/lease/keepalive",
                        new LeaseIdRequest { Id = id },
                        EtcdJsonContext.Default.LeaseIdRequest,
                        EtcdJsonContext.Default.LeaseKeepAliveReply,
                        idempotent: true,
                        _stop.Token).ConfigureAwait(false);
                    if (reply.Result is not { Ttl: > 0 })
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
}
