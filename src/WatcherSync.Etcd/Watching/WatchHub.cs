using Microsoft.Extensions.Logging;
using WatcherSync.Etcd.Api;
using WatcherSync.Etcd.Transport;

namespace WatcherSync.Etcd.Watching;

/// <summary>
/// The client's watch streams: at most one live <see cref="WatchStream"/> per endpoint, opened on first use with the
/// current auth token and replaced when it breaks or its token was renewed.
/// </summary>
internal sealed class WatchHub : IAsyncDisposable
{
    private readonly EtcdTransport _transport;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    private readonly Dictionary<int, WatchStream> _streams = [];
    private readonly HashSet<WatchStream> _all = [];

    public WatchHub(EtcdTransport transport, ILogger logger)
    {
        _transport = transport;
        _logger = logger;
    }

    /// <summary>Asks for a watcher on the stream to <paramref name="index"/>, opening the stream when needed.</summary>
    /// <exception cref="EndpointFailure">Authentication failed.</exception>
    public async Task<WatchSubscription> SubscribeAsync(int index, WatchCreateRequest create, CancellationToken cancellationToken)
    {
        string? token = await _transport.TokenAsync(index, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            WatchStream? stream;
            lock (_sync)
            {
                if (!_streams.TryGetValue(index, out stream) || stream.Ended || stream.Token != token)
                {
                    stream = WatchStream.Open(this, _transport, index, token, _logger);
                    _streams[index] = stream;
                    _all.Add(stream);
                }
            }

            if (stream.Subscribe(create) is { } subscription)
            {
                return subscription;
            }
        }
    }

    /// <summary>Forgets an ended stream.</summary>
    public void Remove(WatchStream stream)
    {
        lock (_sync)
        {
            _all.Remove(stream);
            if (_streams.TryGetValue(stream.Index, out WatchStream? current) && current == stream)
            {
                _streams.Remove(stream.Index);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        WatchStream[] streams;
        lock (_sync)
        {
            streams = [.. _all];
        }

        foreach (WatchStream stream in streams)
        {
            await stream.CloseAsync().ConfigureAwait(false);
        }
    }
}
