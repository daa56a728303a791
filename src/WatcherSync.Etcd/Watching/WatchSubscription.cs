using System.Threading.Channels;
using WatcherSync.Etcd.Api;
using WatcherSync.Etcd.Transport;

namespace WatcherSync.Etcd.Watching;

/// <summary>
/// One watcher on a shared <see cref="WatchStream"/>: the responses etcd sends for its watch id (fragments of one
/// revision joined), in order, until the watcher is cancelled or the stream breaks. The stream's receive loop never
/// waits on a subscriber: responses queue here until the watch takes them.
/// </summary>
internal sealed class WatchSubscription : IDisposable
{
    private readonly WatchStream _stream;
    private readonly Channel<WatchResponse> _responses = Channel.CreateUnbounded<WatchResponse>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private WatchResponse? _fragments;
    private EndpointFailure? _failure;

    public WatchSubscription(WatchStream stream) => _stream = stream;

    /// <summary>Gets the auth token the stream was opened with (the one to forget when etcd rejects it).</summary>
    public string? Token => _stream.Token;

    /// <summary>Gets or sets etcd's id of the watcher, once created (guarded by the stream's lock).</summary>
    public long? Id { get; set; }

    /// <summary>Gets or sets whether the watch let go before etcd created it (guarded by the stream's lock).</summary>
    public bool Abandoned { get; set; }

    /// <summary>Reads the next response.</summary>
    /// <exception cref="EndpointFailure">The stream broke.</exception>
    public async ValueTask<WatchResponse> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_responses.Reader.TryRead(out WatchResponse? response))
            {
                return response;
            }

            if (!await _responses.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw Volatile.Read(ref _failure) ?? new EndpointFailure(new DatastoreUnavailableException("The watch stream closed."), notApplied: true);
            }
        }
    }

    /// <summary>Queues a response (called by the stream's receive loop only).</summary>
    public void Deliver(WatchResponse response)
    {
        if (response.Fragment)
        {
            // etcd splits one large revision over several responses: deliver them as one.
            if (_fragments is null)
            {
                _fragments = response;
            }
            else
            {
                _fragments.Events.Add(response.Events);
            }

            return;
        }

        if (_fragments is not null)
        {
            _fragments.Events.Add(response.Events);
            _fragments.Fragment = false;
            response = _fragments;
            _fragments = null;
        }

        _responses.Writer.TryWrite(response);
    }

    /// <summary>
    /// Gets the stream group the watch moves to after its stream broke on a reply over the receive limit that may not
    /// have been its own; null when the failure was certainly this watch's (or was not about size).
    /// </summary>
    public long? MovedTo { get; private set; }

    /// <summary>Ends the subscription with the stream's failure.</summary>
    public void Fail(EndpointFailure failure, long? movedTo)
    {
        MovedTo = movedTo;
        Volatile.Write(ref _failure, failure);
        _responses.Writer.TryComplete();
    }

    /// <summary>Cancels the watcher on etcd (or, not yet created, as soon as it is).</summary>
    public void Dispose() => _stream.Unsubscribe(this);
}
