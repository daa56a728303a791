using System.Net;
using System.Net.Sockets;

namespace WatcherSync.Etcd.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy for fault injection: <see cref="Cut"/> drops every connection and refuses new ones until
/// <see cref="Restore"/>; <see cref="Blackhole"/> keeps connections open but forwards nothing (a silent server);
/// <see cref="HoldRepliesAfter"/> lets requests through but holds every reply once a request carries given bytes (a
/// request applied whose reply is lost); <see cref="DelayReplies"/> slows replies down; <see cref="Drop"/> loses
/// every byte while connections stay open.
/// </summary>
public sealed class TcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _connections = [];
    private readonly Task _accept;
    private volatile bool _cut;
    private volatile TaskCompletionSource? _paused;
    private volatile TaskCompletionSource? _repliesHeld;
    private volatile byte[]? _holdMarker;
    private long _replyDelayTicks;
    private volatile bool _dropping;

    public TcpProxy(string targetUrl)
    {
        _targetPort = new Uri(targetUrl).Port;
        _listener.Start();
        Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _accept = AcceptAsync();
    }

    public string Url { get; }

    public void Cut()
    {
        _cut = true;
        lock (_connections)
        {
            foreach (TcpClient c in _connections)
            {
                c.Dispose();
            }

            _connections.Clear();
        }
    }

    public void Blackhole() => _paused ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Keeps connections open but throws away every byte both ways (packets lost on a cut network).</summary>
    public void Drop() => _dropping = true;

    /// <summary>From the first request that carries <paramref name="marker"/> on, requests pass and replies are held.</summary>
    public void HoldRepliesAfter(byte[] marker) => _holdMarker = marker;

    /// <summary>Holds every reply from now on (requests still pass).</summary>
    public void HoldReplies() => _repliesHeld ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Gets whether replies are being held.</summary>
    public bool HoldingReplies => _repliesHeld is not null;

    /// <summary>Delays every chunk of reply bytes by <paramref name="delay"/> (zero: no delay).</summary>
    public void DelayReplies(TimeSpan delay) => Interlocked.Exchange(ref _replyDelayTicks, delay.Ticks);

    public void Restore()
    {
        _cut = false;
        _dropping = false;
        _holdMarker = null;
        Interlocked.Exchange(ref _replyDelayTicks, 0);
        Interlocked.Exchange(ref _paused, null)?.TrySetResult();
        Interlocked.Exchange(ref _repliesHeld, null)?.TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        Cut();
        Restore();
        try
        {
            await _accept;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
            if (_cut)
            {
                inbound.Dispose();
                continue;
            }

            var outbound = new TcpClient();
            try
            {
                await outbound.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            }
            catch (SocketException)
            {
                inbound.Dispose();
                outbound.Dispose();
                continue;
            }

            lock (_connections)
            {
                _connections.Add(inbound);
                _connections.Add(outbound);
            }

            _ = PumpAsync(inbound, outbound, toServer: true);
            _ = PumpAsync(outbound, inbound, toServer: false);
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to, bool toServer)
    {
        byte[] buffer = new byte[64 * 1024];
        try
        {
            NetworkStream source = from.GetStream();
            NetworkStream target = to.GetStream();
            while (true)
            {
                int read = await source.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    break;
                }

                if (_dropping)
                {
                    continue;
                }

                if (_paused is { } paused)
                {
                    await paused.Task;
                }

                if (toServer && _holdMarker is { } marker && buffer.AsSpan(0, read).IndexOf(marker) >= 0)
                {
                    HoldReplies();
                    _holdMarker = null;
                }

                if (!toServer)
                {
                    if (_repliesHeld is { } held)
                    {
                        await held.Task;
                    }

                    if (Interlocked.Read(ref _replyDelayTicks) is > 0 and long ticks)
                    {
                        await Task.Delay(TimeSpan.FromTicks(ticks), _stop.Token);
                    }
                }

                await target.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException or InvalidOperationException)
        {
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }
}
