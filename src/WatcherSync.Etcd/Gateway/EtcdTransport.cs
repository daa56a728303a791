using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
using WatcherSync.Etcd.Diagnostics;

namespace WatcherSync.Etcd.Gateway;

/// <summary>
/// Sends gateway requests: picks the endpoint, fails over to the next one, authenticates (and again when the token
/// is rejected), applies the request timeout and maps failures onto the <see cref="DatastoreException"/> family.
/// </summary>
internal sealed class EtcdTransport : IDisposable
{
    private static readonly MediaTypeHeaderValue Json = new("application/json");
    private static readonly Dictionary<string, string> EmptyHeaders = [];

    private readonly EtcdClientOptions _options;
    private readonly string[] _endpoints;
    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly EtcdMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _authLock = new(1, 1);
    private volatile string? _token;
    private int _current;

    public EtcdTransport(EtcdClientOptions options, ILogger logger, EtcdMetrics metrics)
    {
        _options = options;
        _endpoints = [.. options.Endpoints.Select(e => e.TrimEnd('/'))];
        _logger = logger;
        _metrics = metrics;
        _time = options.TimeProvider;
        _http = new HttpClient(CreateHandler(options), disposeHandler: true)
        {
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    public int EndpointCount => _endpoints.Length;

    /// <summary>Gets the endpoint new requests start at.</summary>
    public int Current => Volatile.Read(ref _current);

    public string Endpoint(int index) => _endpoints[index];

    /// <summary>
    /// Sends one unary request, moving to the next endpoint when one is unavailable. An <paramref name="idempotent"/>
    /// request (a read) may be sent again after a failure that may have reached the server; writes are sent
    /// elsewhere only when the first server certainly did not apply them (connection refused, no leader).
    /// </summary>
    public async Task<TResponse> CallAsync<TRequest, TResponse>(
        string operation,
        string path,
        TRequest request,
        JsonTypeInfo<TRequest> requestInfo,
        JsonTypeInfo<TResponse> responseInfo,
        bool idempotent,
        CancellationToken cancellationToken)
    {
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(request, requestInfo);
        long started = _time.GetTimestamp();
        int start = Current;
        DatastoreException? last = null;
        for (int attempt = 0; attempt < _endpoints.Length; attempt++)
        {
            int index = (start + attempt) % _endpoints.Length;
            try
            {
                TResponse response = await SendAsync(index, operation, path, body, responseInfo, cancellationToken).ConfigureAwait(false);
                _metrics.RequestDone(operation, "ok", _time.GetElapsedTime(started).TotalSeconds);
                return response;
            }
            catch (EndpointFailure failure) when (failure.Error.IsTransient && (idempotent || failure.NotApplied))
            {
                last = failure.Error;
                Log.EndpointFailed(_logger, _endpoints[index], operation, failure.Error.Message);
                MoveOff(index);
            }
            catch (EndpointFailure failure)
            {
                _metrics.RequestDone(operation, failure.Error.IsTransient ? "unavailable" : "error", _time.GetElapsedTime(started).TotalSeconds);
                throw failure.Error;
            }
        }

        _metrics.RequestDone(operation, "unavailable", _time.GetElapsedTime(started).TotalSeconds);
        throw last!;
    }

    /// <summary>
    /// Opens a streaming request (a watch) on one endpoint and returns the response once its headers arrived. The
    /// caller owns the response. Failures come as <see cref="EndpointFailure"/>.
    /// </summary>
    public async Task<HttpResponseMessage> OpenStreamAsync(int index, string operation, string path, byte[] body, IReadOnlyDictionary<string, string>? headers, CancellationToken cancellationToken)
    {
        using CancellationTokenSource timeout = CreateTimeout(cancellationToken);
        return await SendRawAsync(index, operation, path, body, headers, timeout.Token, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Forgets <paramref name="token"/> and authenticates again (once for any number of callers that saw it rejected).</summary>
    public async Task RenewTokenAsync(int index, string? token, CancellationToken cancellationToken)
    {
        Log.TokenRejected(_logger, _endpoints[index]);
        await _authLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_token == token)
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
        _http.Dispose();
        _authLock.Dispose();
    }

    private async Task<TResponse> SendAsync<TResponse>(int index, string operation, string path, byte[] body, JsonTypeInfo<TResponse> responseInfo, CancellationToken cancellationToken)
    {
        using CancellationTokenSource timeout = CreateTimeout(cancellationToken);
        using HttpResponseMessage response = await SendRawAsync(index, operation, path, body, headers: null, timeout.Token, cancellationToken).ConfigureAwait(false);
        try
        {
            Stream stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                return await JsonSerializer.DeserializeAsync(stream, responseInfo, timeout.Token).ConfigureAwait(false)
                    ?? throw new EndpointFailure(new DatastoreException($"etcd {operation} at {_endpoints[index]} returned an empty reply."), notApplied: false);
            }
        }
        catch (Exception ex) when (Classify(ex, index, operation, cancellationToken) is { } failure)
        {
            throw failure;
        }
    }

    /// <summary>
    /// Sends a request with the auth token (authenticating again once when it is rejected) and returns the successful
    /// response with its headers read; <paramref name="token"/> includes the timeout, <paramref name="cancellationToken"/>
    /// is the caller's.
    /// </summary>
    private async Task<HttpResponseMessage> SendRawAsync(int index, string operation, string path, byte[] body, IReadOnlyDictionary<string, string>? headers, CancellationToken token, CancellationToken cancellationToken)
    {
        bool retriedAuth = false;
        while (true)
        {
            string? authToken = await TokenAsync(index, token).ConfigureAwait(false);
            using HttpRequestMessage request = Build(index, path, body, authToken);
            foreach (KeyValuePair<string, string> header in headers ?? EmptyHeaders)
            {
                request.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token).ConfigureAwait(false);
            }
            catch (Exception ex) when (Classify(ex, index, operation, cancellationToken) is { } failure)
            {
                throw failure;
            }

            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            using (response)
            {
                EndpointFailure failure;
                try
                {
                    failure = await ReadFailureAsync(response, index, operation, token).ConfigureAwait(false);
                }
                catch (Exception ex) when (Classify(ex, index, operation, cancellationToken) is { } readFailure)
                {
                    throw readFailure;
                }

                if (!failure.InvalidToken || retriedAuth)
                {
                    throw failure;
                }

                retriedAuth = true;
                await RenewTokenAsync(index, authToken, token).ConfigureAwait(false);
            }
        }
    }

    private async Task<string?> TokenAsync(int index, CancellationToken cancellationToken)
    {
        if (_options.Username is not { Length: > 0 } user)
        {
            return null;
        }

        string? token = _token;
        if (token is not null)
        {
            return token;
        }

        await _authLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_token is { } fresh)
            {
                return fresh;
            }

            byte[] body = JsonSerializer.SerializeToUtf8Bytes(new AuthenticateRequest { Name = user, Password = _options.Password }, EtcdJsonContext.Default.AuthenticateRequest);
            using HttpRequestMessage request = Build(index, "/v3/auth/authenticate", body, token: null);
            using var timeout = CreateTimeout(cancellationToken);
            try
            {
                using HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    throw await ReadFailureAsync(response, index, "authenticate", timeout.Token).ConfigureAwait(false);
                }

                AuthenticateResponse? reply = await response.Content.ReadFromJsonAsync(EtcdJsonContext.Default.AuthenticateResponse, timeout.Token).ConfigureAwait(false);
                _token = reply?.Token is { Length: > 0 } t
                    ? t
                    : throw new EndpointFailure(new DatastoreException($"etcd at {_endpoints[index]} returned no auth token for user '{user}'."), notApplied: true);
                Log.Authenticated(_logger, _endpoints[index], user);
                return _token;
            }
            catch (Exception ex) when (Classify(ex, index, "authenticate", cancellationToken) is { } failure)
            {
                throw failure;
            }
        }
        finally
        {
            _authLock.Release();
        }
    }

    private HttpRequestMessage Build(int index, string path, byte[] body, string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, _endpoints[index] + path)
        {
            Content = new ByteArrayContent(body),
        };
        request.Content.Headers.ContentType = Json;
        if (token is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", token);
        }

        return request;
    }

    private CancellationTokenSource CreateTimeout(CancellationToken cancellationToken)
    {
        CancellationTokenSource cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (_options.RequestTimeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            if (_time == TimeProvider.System)
            {
                cts.CancelAfter(_options.RequestTimeout);
            }
            else
            {
                ITimer timer = _time.CreateTimer(static s => ((CancellationTokenSource)s!).Cancel(), cts, _options.RequestTimeout, System.Threading.Timeout.InfiniteTimeSpan);
                cts.Token.Register(static t => ((ITimer)t!).Dispose(), timer);
            }
        }

        return cts;
    }

    private async Task<EndpointFailure> ReadFailureAsync(HttpResponseMessage response, int index, string operation, CancellationToken cancellationToken)
    {
        ErrorReply? reply = null;
        try
        {
            byte[] bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            reply = bytes.Length > 0 && bytes[0] == (byte)'{' ? JsonSerializer.Deserialize(bytes, EtcdJsonContext.Default.ErrorReply) : null;
        }
        catch (JsonException)
        {
            // Not the gateway's error shape (a proxy's page, for instance): the status code says enough.
        }

        string? message = reply?.Error ?? reply?.Message;
        int code = reply?.Code ?? 0;
        DatastoreException error = EtcdErrors.FromReply(response.StatusCode, code, message, _endpoints[index], operation);

        // "no leader" and friends are refused before anything is applied: safe to send elsewhere.
        bool notApplied = error.IsTransient && (message?.Contains("no leader", StringComparison.Ordinal) ?? true);
        return new EndpointFailure(error, notApplied, EtcdErrors.IsInvalidToken(code, message));
    }

    private EndpointFailure? Classify(Exception ex, int index, string operation, CancellationToken cancellationToken)
    {
        switch (ex)
        {
            case EndpointFailure:
                return null;
            case HttpRequestException http:
                DatastoreException mapped = EtcdErrors.FromTransport(http, _endpoints[index], operation, out bool notSent);
                return new EndpointFailure(mapped, notSent);
            case OperationCanceledException when !cancellationToken.IsCancellationRequested:
                return new EndpointFailure(EtcdErrors.Timeout(_endpoints[index], operation, _options.RequestTimeout, ex), notApplied: false);
            case IOException io:
                return new EndpointFailure(new DatastoreUnavailableException($"The connection to etcd at {_endpoints[index]} broke during {operation}: {io.Message}", io), notApplied: false);
            case JsonException json:
                return new EndpointFailure(new DatastoreException($"etcd {operation} at {_endpoints[index]} returned a reply that is not valid gateway JSON: {json.Message}", json), notApplied: false);
            default:
                return null;
        }
    }

    private static SocketsHttpHandler CreateHandler(EtcdClientOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = options.RequestTimeout == System.Threading.Timeout.InfiniteTimeSpan ? TimeSpan.FromSeconds(30) : options.RequestTimeout,
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
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
            {
                if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
                {
                    return false;
                }

                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(roots);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                using var leaf = new X509Certificate2(certificate);
                return chain.Build(leaf);
            };
        }

        return handler;
    }
}
