using System.Net;
using System.Net.Http;
using Grpc.Net.Client;

namespace WatcherSync.Relay;

/// <summary>
/// A relay client's gRPC channels, one per endpoint, each made on first use and reused across reconnects, with the
/// transport set up on purpose: one HTTP/2 connection, size limits, TLS material, and no reconnect backoff of its own
/// under the client's. Used from the syncer's one connection loop.
/// </summary>
internal sealed class RelayChannels(Uri[] endpoints, RelaySyncerOptions options) : IDisposable
{
    /// <summary>The largest message a client accepts, and the most a compressed batch may decompress to.</summary>
    public const int MaxMessageBytes = 64 * 1024 * 1024;

    private readonly GrpcChannel?[] _channels = new GrpcChannel?[endpoints.Length];

    /// <summary>Gets the channel to endpoint <paramref name="index"/>, made on first use.</summary>
    public GrpcChannel Get(int index)
    {
        // One channel per endpoint, made once and reused across reconnects.
        return _channels[index] ??= GrpcChannel.ForAddress(endpoints[index], new GrpcChannelOptions
        {
            HttpHandler = CreateHandler(),
            MaxReceiveMessageSize = MaxMessageBytes,
            DisposeHttpClient = true,

            // The client's own backoff (MinReconnectDelay..MaxReconnectDelay, jittered) is the only one: the channel's
            // (1 s growing to 120 s by default) would sit under it and fail calls fast while it waits, so that after a
            // long outage clients came back minutes after the relay did.
            InitialReconnectBackoff = options.MinReconnectDelay / 2,
            MaxReconnectBackoff = options.MinReconnectDelay / 2,
        });
    }

    private SocketsHttpHandler CreateHandler()
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = false,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            ConnectTimeout = options.SilenceTimeout,
            AutomaticDecompression = DecompressionMethods.None,
            // The stream's receive window stays the handler's (64 KiB, grown as it measures round trips): a larger one
            // (768 KiB) lets a slow consumer's backlog of unread messages grow before the relay's pings, so its pongs
            // came later than PingTimeout (RelayBoundsTests.SlowConsumerOfALongSnapshot_…), for no CPU saved that could
            // be measured (benchmarks/README.md).
        };
        if (options.ClientCertificate is { } certificate)
        {
            handler.SslOptions.ClientCertificates = [certificate];
        }

        if (options.ServerCertificateValidation is { } validate)
        {
            handler.SslOptions.RemoteCertificateValidationCallback = validate;
        }

        return handler;
    }

    public void Dispose()
    {
        foreach (GrpcChannel? channel in _channels)
        {
            channel?.Dispose();
        }
    }
}
