using Microsoft.Extensions.Logging;
using WatcherSync.Etcd.Api;
using WatcherSync.Etcd.Transport;

namespace WatcherSync.Etcd.Watching;

/// <summary>
/// The client's watch streams: at most one live <see cref="WatchStream"/> per endpoint and group, opened on first use
/// with the current auth token and replaced when it breaks or its token was renewed. Every watch is in group 0 (one
/// shared stream) until a stream breaks on a reply over the receive limit: gRPC does not say whose reply it was, so
/// the watches of that stream are split into two new groups, each on its own stream, until the one watch that receives
/// the large revision is alone on its stream and fails; the others go on where they are.
/// </summary>
internal sealed class WatchHub : IAsyncDisposable
{
    private readonly EtcdTransport _transport;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    private readonly Dictionary<(int Index, long Group), WatchStream> _streams = [];
    private readonly HashSet<WatchStream> _all = [];
    private long _lastGroup;

    public WatchHub(EtcdTransport transport, ILogger logger)
    {
        _transport = transport;
        _logger = logger;
    }

    /// <summary>Allocates a new stream group.</summary>
    public long NewGroup() => Interlocked.Increment(ref _lastGroup);

    /// <summary>Asks for a watcher on the stream of <paramref name="group"/> to <paramref name="index"/>, opening the stream when needed.</summary>
    /// <exception cref="EndpointFailure">Authentication failed.</exception>
    public async Task<WatchSubscription> SubscribeAsync(int index, long group, WatchCreateRequest create, CancellationToken cancellationToken)
    {
        string? token = await _transport.TokenAsync(index, cancellationToken).ConfigureAwait(false);
        while (true)
        {
            WatchStream? stream;
            lock (_sync)
            {
                if (!_streams.TryGetValue((index, group), out stream) || stream.Ended || stream.Token != token)
                {
                    stream = WatchStream.Open(this, _transport, index, group, token, _logger);
                    _streams[(index, group)] = stream;
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
            if (_streams.TryGetValue((stream.Index, stream.Group), out WatchStream? current) && current == stream)
            {
                _streams.Remove((stream.Index, stream.Group));
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
