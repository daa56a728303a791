using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using WatcherSync.Etcd.Api;
using WatcherSync.Etcd.Diagnostics;

namespace WatcherSync.Etcd.Transport;

/// <summary>
/// Sends gRPC calls to etcd: one channel (one HTTP/2 connection) per endpoint, failover to the next endpoint,
/// authentication (and again when the token is rejected), the request timeout on the client's clock, and failures
/// mapped onto the <see cref="DatastoreException"/> family.
/// </summary>
internal sealed class EtcdTransport : IDisposable
{
    /// <summary>
    /// HTTP/2 ping delay. etcd sends GOAWAY ENHANCE_YOUR_CALM to clients that ping more often than every 5 s
    /// (<c>--grpc-keepalive-min-time</c>) or while no call is active, so pings go every 10 s and only during calls.
    /// </summary>
    public static readonly TimeSpan PingDelay = TimeSpan.FromSeconds(10);

    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    private static readonly TimeSpan FirstRetryBackoff = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxRetryBackoff = TimeSpan.FromMilliseconds(500);

    private readonly EtcdClientOptions _options;
    private readonly string[] _endpoints;
    private readonly EtcdClients[] _clients;
    private readonly ILogger _logger;
    private readonly EtcdMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _authLock = new(1, 1);

    // _endpointFailures[i]: the run of failures of endpoint i, so that an endpoint that stays down is a warning a
    // minute (with the count of the rest), not one per request. Guarded by _warningsLock; _failingEndpoints counts the
    // endpoints in a run, so that a request that succeeds takes the lock only when a run may have to end.
    private readonly Lock _warningsLock = new();
    private readonly RepeatedWarning[] _endpointFailures;
    private int _failingEndpoints;
    private volatile string? _token;
    private volatile bool _authOff;
    private int _current;

    public EtcdTransport(EtcdClientOptions options, ILogger logger, EtcdMetrics metrics)
    {
        _options = options;
        _endpoints = [.. options.Endpoints.Select(e => e.TrimEnd('/'))];
        _logger = logger;
        _metrics = metrics;
        _time = options.TimeProvider;
        _endpointFailures = [.. _endpoints.Select(_ => new RepeatedWarning(_time, RepeatedWarning.DefaultWindow))];
        _clients = [.. _endpoints.Select(e => new EtcdClients(GrpcChannel.ForAddress(e, new GrpcChannelOptions
        {
            HttpHandler = CreateHandler(options),
            DisposeHttpClient = true,
            // A list page or watch response above the limit fails with a too-large error that is never retried as
            // is: lists halve their page and watches ask etcd to fragment large revisions.
            MaxReceiveMessageSize = options.MaxReceiveMessageBytes,
            MaxSendMessageSize = null,

            // A member that was down is tried again soon after it is back, not after gRPC's default of up to 120 s.
            InitialReconnectBackoff = TimeSpan.FromMilliseconds(100),
            MaxReconnectBackoff = TimeSpan.FromSeconds(1),
        })))];
    }

    public int EndpointCount => _endpoints.Length;

    /// <summary>Logs a failure of endpoint <paramref name="index"/>: the first of a run, then once a minute with the count of the rest.</summary>
    private void EndpointFailed(int index, string operation, string reason)
    {
        bool log;
        int repeats;
        lock (_warningsLock)
        {
            RepeatedWarning failures = _endpointFailures[index];
            if (!failures.InRun)
            {
                _failingEndpoints++;
            }

            log = failures.Occurred(out repeats);
        }

        if (!log)
        {
            return;
        }

        if (repeats == 0)
        {
            Log.EndpointFailed(_logger, _endpoints[index], operation, reason);
        }
        else
        {
            Log.EndpointStillFailing(_logger, _endpoints[index], operation, reason, repeats, RepeatedWarning.DefaultWindow);
        }
    }

    /// <summary>Ends the run of failures of endpoint <paramref name="index"/>, if any, saying how many were not logged.</summary>
    private void EndpointAnswered(int index)
    {
        if (Volatile.Read(ref _failingEndpoints) == 0)
        {
            return;
        }

        int repeats;
        lock (_warningsLock)
        {
            RepeatedWarning failures = _endpointFailures[index];
            if (!failures.InRun)
            {
                return;
            }

            _failingEndpoints--;
            repeats = failures.End();
        }

        if (repeats > 0)
        {
            Log.EndpointRecovered(_logger, _endpoints[index], repeats);
        }
    }

    /// <summary>Gets the endpoint new requests start at.</summary>
    public int Current => Volatile.Read(ref _current);

    public TimeProvider Time => _time;

    public EtcdClientOptions Options => _options;

    public string Endpoint(int index) => _endpoints[index];

    public EtcdClients Clients(int index) => _clients[index];

    /// <summary>
    /// Sends one call, moving to the next endpoint when one is unavailable. An <paramref name="idempotent"/> call (a
    /// read) may be sent again after a failure that may have reached the server; writes are sent elsewhere only when
    /// the first server certainly did not apply them (connection refused, no leader, leader transfer, auth refused).
    /// Every transient failure moves later calls off the endpoint, including the failure of a write that is not sent
    /// again (a frozen member costs one write, not every write). When every endpoint refused for a moment (no leader,
    /// a leader transfer), the round is tried again after a short backoff within <see cref="EtcdClientOptions.RequestTimeout"/>.
    /// </summary>
    /// <param name="operation">What is asked (get, put, lease-keepalive, ...), for errors, logs and metrics.</param>
    /// <param name="call">Sends the call with the options given.</param>
    /// <param name="idempotent">Whether the call may be sent again after a failure that may have reached the server.</param>
    /// <param name="cancellationToken">The caller's cancellation: it ends the call with an <see cref="OperationCanceledException"/>.
    /// A deadline belongs in <paramref name="attemptTimeout"/>, never here: a cancelled token cannot tell the transport
    /// that a member is slow, so the call would not move off it.</param>
    /// <param name="attemptTimeout">How long one attempt on one endpoint may take when that is shorter than
    /// <see cref="EtcdClientOptions.RequestTimeout"/> (a keepalive); null for the request timeout. Its expiry is the
    /// transport's own timeout: the endpoint is left, a read goes to the next one, a write's outcome is unknown.</param>
    /// <exception cref="DatastoreException">The call failed (on every endpoint, when the failure is transient). A write
    /// whose reply was lost fails with <see cref="DatastoreUnavailableException.OutcomeUnknown"/> set.</exception>
    public async Task<TResponse> CallAsync<TResponse>(
        string operation, Func<EtcdClients, CallOptions, Task<TResponse>> call, bool idempotent, CancellationToken cancellationToken, TimeSpan? attemptTimeout = null)
    {
        long started = _time.GetTimestamp();
        int start = Current;
        EndpointFailure? last = null;
        bool retryLater = false;
        TimeSpan backoff = FirstRetryBackoff;
        for (int attempt = 0; ; attempt++)
        {
            if (attempt > 0 && attempt % _endpoints.Length == 0)
            {
                // A full round failed: try again only when the cluster said "later", and only within the timeout.
                TimeSpan elapsed = _time.GetElapsedTime(started);
                if (!retryLater || (_options.RequestTimeout != Timeout.InfiniteTimeSpan && elapsed + backoff >= _options.RequestTimeout))
                {
                    break;
                }

                await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxRetryBackoff.Ticks));
                retryLater = false;
            }

            int index = (start + attempt) % _endpoints.Length;
            try
            {
                TResponse response = await SendAsync(index, operation, call, cancellationToken, attemptTimeout).ConfigureAwait(false);
                _metrics.RequestDone(operation, "ok", _time.GetElapsedTime(started).TotalSeconds);
                EndpointAnswered(index);
                return response;
            }
            catch (EndpointFailure failure)
            {
                if (failure.MovesOff)
                {
                    EndpointFailed(index, operation, failure.Error.Message);
                    MoveOff(index);
                }

                if (!failure.Error.IsTransient || !(idempotent || failure.NotApplied))
                {
                    _metrics.RequestDone(operation, failure.Error.IsTransient ? "unavailable" : "error", _time.GetElapsedTime(started).TotalSeconds);
                    throw Surface(failure, idempotent);
                }

                last = failure;
                retryLater |= failure.RetryLater;
            }
        }

        _metrics.RequestDone(operation, "unavailable", _time.GetElapsedTime(started).TotalSeconds);
        throw Surface(last!, idempotent);
    }

    /// <summary>
    /// The error the caller sees: a write whose reply was lost, or whose reply was over the receive limit (etcd
    /// processed it), says its outcome is unknown.
    /// </summary>
    private static DatastoreException Surface(EndpointFailure failure, bool idempotent) =>
        !idempotent && failure.OutcomeUnknown && (failure.Error.IsTransient || failure.Action == FailureAction.MessageTooLarge)
            ? new DatastoreUnavailableException($"{failure.Error.Message} The write may or may not have been applied.", failure.Error.InnerException) { OutcomeUnknown = true }
            : failure.Error;

    /// <summary>
    /// Returns the token to send to <paramref name="index"/>, authenticating first when there is none; null when no
    /// user is set or etcd has auth turned off. Failures come as <see cref="EndpointFailure"/>: a member that does not
    /// answer in time is a transient failure of that member, never a cancellation by the caller.
    /// </summary>
    public async Task<string?> TokenAsync(int index, CancellationToken cancellationToken)
    {
        if (_options.Username is not { Length: > 0 } user || _authOff)
        {
            return null;
        }

        if (_token is { } cached)
        {
            return cached;
        }

        // Only the caller's token bounds the wait: whoever holds the lock is bounded by its own deadline.
        await _authLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_authOff)
            {
                return null;
            }

            if (_token is { } fresh)
            {
                return fresh;
            }

            using var deadline = new CallDeadline(_time, _options.RequestTimeout, cancellationToken);
            try
            {
                AuthenticateResponse reply = await _clients[index].Auth.AuthenticateAsync(
                    new AuthenticateRequest { Name = user, Password = _options.Password ?? string.Empty },
                    new CallOptions(cancellationToken: deadline.Token)).ResponseAsync.ConfigureAwait(false);
                if (reply.Token is not { Length: > 0 } token)
                {
                    throw new EndpointFailure(new DatastoreException($"etcd at {_endpoints[index]} returned no auth token for user '{user}'."), notApplied: true);
                }

                _token = token;
                Log.Authenticated(_logger, _endpoints[index], user);
                return token;
            }
            catch (Exception ex) when (ex is RpcException or OperationCanceledException)
            {
                cancellationToken.ThrowIfCancellationRequested();
                EndpointFailure failure = deadline.Expired
                    ? new EndpointFailure(EtcdErrors.Timeout(_endpoints[index], "authenticate", _options.RequestTimeout, ex), notApplied: true)
                    : ex is RpcException rpc ? Map(rpc, index, "authenticate")
                    : new EndpointFailure(new DatastoreUnavailableException($"Authenticating to etcd at {_endpoints[index]} was cancelled.", ex), notApplied: true);
                if (failure.Action == FailureAction.AuthNotEnabled)
                {
                    // clientv3 carries on without a token when the server has auth off; so does this client.
                    Log.AuthNotEnabled(_logger, _endpoints[index], user);
                    _authOff = true;
                    return null;
                }

                throw failure;
            }
        }
        finally
        {
            _authLock.Release();
        }
    }

    /// <summary>
    /// Forgets <paramref name="staleToken"/> (the token that was rejected, not whatever is current) and authenticates
    /// again, once for any number of callers that saw it rejected.
    /// </summary>
    public async Task RenewTokenAsync(int index, string? staleToken, CancellationToken cancellationToken)
    {
        Log.TokenRejected(_logger, _endpoints[index]);
        await _authLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (staleToken is null)
            {
                // Sent without a token because auth looked off: it is on now.
                _authOff = false;
            }
            else if (_token == staleToken)
            {
                _token = null;
            }
        }
        finally
        {
            _authLock.Release();
        }

        await TokenAsync(index, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether a failure is worth one more try after renewing the token (credentials are set).</summary>
    public bool CanRenew(EndpointFailure failure) =>
        _options.Username is { Length: > 0 } && failure.Action is FailureAction.RenewToken or FailureAction.TokenMissing;

    /// <summary>Builds the call metadata: the token when there is one, plus <paramref name="extra"/>.</summary>
    public static Metadata? Headers(string? token, Metadata.Entry? extra = null)
    {
        if (token is null && extra is null)
        {
            return null;
        }

        var headers = new Metadata();
        if (token is not null)
        {
            headers.Add("token", token);
        }

        if (extra is not null)
        {
            headers.Add(extra);
        }

        return headers;
    }

    /// <summary>Maps a failed call on <paramref name="index"/>.</summary>
    public EndpointFailure Map(RpcException error, int index, string operation) =>
        EtcdErrors.FromRpc(error, _endpoints[index], operation, _options.Username is { Length: > 0 } u ? u : null, _options.MaxReceiveMessageBytes);

    /// <summary>Makes <paramref name="index"/>'s successor the endpoint new requests start at.</summary>
    public void MoveOff(int index)
    {
        int next = (index + 1) % _endpoints.Length;
        if (Interlocked.CompareExchange(ref _current, next, index) == index && next != index)
        {
            _metrics.FailedOver();
            Log.FailedOver(_logger, _endpoints[index], _endpoints[next]);
        }
    }

    public void Dispose()
    {
        foreach (EtcdClients clients in _clients)
        {
            clients.Channel.Dispose();
        }
    }

    /// <summary>Sends one call to <paramref name="index"/> only (no failover); failures come as <see cref="EndpointFailure"/>.</summary>
    public Task<TResponse> CallOnAsync<TResponse>(int index, string operation, Func<EtcdClients, CallOptions, Task<TResponse>> call, CancellationToken cancellationToken, TimeSpan? attemptTimeout = null) =>
        SendAsync(index, operation, call, cancellationToken, attemptTimeout);

    /// <summary>The timeout of one attempt: <paramref name="attemptTimeout"/> when it is shorter than the request timeout.</summary>
    internal static TimeSpan AttemptTimeout(TimeSpan requestTimeout, TimeSpan? attemptTimeout) =>
        attemptTimeout is { } shorter && shorter != Timeout.InfiniteTimeSpan && (requestTimeout == Timeout.InfiniteTimeSpan || shorter < requestTimeout)
            ? shorter
            : requestTimeout;

    private async Task<TResponse> SendAsync<TResponse>(
        int index, string operation, Func<EtcdClients, CallOptions, Task<TResponse>> call, CancellationToken cancellationToken, TimeSpan? attemptTimeout)
    {
        TimeSpan timeout = AttemptTimeout(_options.RequestTimeout, attemptTimeout);
        bool retried = false;
        while (true)
        {
            string? token = await TokenAsync(index, cancellationToken).ConfigureAwait(false);
            EndpointFailure failure;
            using (var deadline = new CallDeadline(_time, timeout, cancellationToken))
            {
                try
                {
                    return await call(_clients[index], new CallOptions(Headers(token), cancellationToken: deadline.Token)).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is RpcException or OperationCanceledException or IOException or HttpRequestException)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    failure = deadline.Expired
                        ? new EndpointFailure(EtcdErrors.Timeout(_endpoints[index], operation, timeout, ex), notApplied: false)
                        : ex is RpcException rpc ? Map(rpc, index, operation)
                        : new EndpointFailure(new DatastoreUnavailableException($"The connection to etcd at {_endpoints[index]} broke during {operation}: {ex.Message}", ex), notApplied: false);
                }
            }

            if (retried || !CanRenew(failure))
            {
                throw failure;
            }

            retried = true;
            await RenewTokenAsync(index, token, cancellationToken).ConfigureAwait(false);
        }
    }

    private static SocketsHttpHandler CreateHandler(EtcdClientOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = options.RequestTimeout == Timeout.InfiniteTimeSpan ? TimeSpan.FromSeconds(30) : options.RequestTimeout,
            KeepAlivePingDelay = PingDelay,
            KeepAlivePingTimeout = PingDelay,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            EnableMultipleHttp2Connections = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            UseProxy = false,
        };

        if (options.ClientCertificate is { } clientCertificate)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
        }

        if (options.TrustedCertificateAuthorities is { Count: > 0 } authorities)
        {
            X509Certificate2Collection roots = [.. authorities];
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, sent, errors) =>
                certificate is not null
                && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None
                && ChainsToRoots(certificate, sent, roots);
        }

        return handler;
    }

    /// <summary>
    /// Whether <paramref name="certificate"/> chains to one of <paramref name="roots"/>, through the intermediates the
    /// server sent, within its validity and with the serverAuth usage (as Go clients require: a client-only certificate
    /// of the cluster CA is not a member). The name is checked by the TLS stack (the callback refuses any error but the
    /// chain's, which this rebuilds).
    /// </summary>
    private static bool ChainsToRoots(X509Certificate certificate, X509Chain? sent, X509Certificate2Collection roots)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ServerAuthentication));
        if (sent is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(sent.ChainPolicy.ExtraStore);
            foreach (X509ChainElement element in sent.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
