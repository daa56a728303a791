using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

/// <summary>
/// A loopback TCP proxy in front of the relay that passes what the relay sends to each connection at a set rate, and
/// what the client sends at once: the client's consumer reads its stream at that rate, so the relay sees a client whose
/// HTTP/2 stream window fills and stays full (its writes wait for window updates), which is what a slow client is to
/// the relay. Everything is asynchronous: a slow client holds no thread on either side. The rate can change while
/// connections are open (0 = as fast as the relay sends).
/// </summary>
internal sealed class SlowLink : IAsyncDisposable
{
    // Small socket buffers, so that the kernel does not hide the slowness behind megabytes of its own.
    private const int SocketBuffer = 16 * 1024;
    private const int ReadBytes = 4096;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _relay;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private long _bytesPerSecond;

    private SlowLink(Uri relay)
    {
        _relay = new IPEndPoint(IPAddress.Parse(relay.Host), relay.Port);
        _listener.Start(1024);
        _accepting = AcceptAsync();
    }

    /// <summary>Gets the address the clients connect to instead of the relay's.</summary>
    public Uri Address => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    /// <summary>Gets or sets the bytes per second passed to each connection from the relay (0 = no limit).</summary>
    public long BytesPerSecond
    {
        get => Volatile.Read(ref _bytesPerSecond);
        set => Volatile.Write(ref _bytesPerSecond, value);
    }

    public static SlowLink Start(Uri relay) => new(relay);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
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
            Socket client = await _listener.AcceptSocketAsync(_stop.Token);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using (client)
        using (var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            try
            {
                client.NoDelay = true;
                client.SendBufferSize = SocketBuffer;
                upstream.NoDelay = true;
                upstream.ReceiveBufferSize = SocketBuffer;
                await upstream.ConnectAsync(_relay, _stop.Token);
                using var fromClient = new NetworkStream(client, ownsSocket: false);
                using var fromRelay = new NetworkStream(upstream, ownsSocket: false);
                Task up = PumpAsync(fromClient, fromRelay, paced: false);
                Task down = PumpAsync(fromRelay, fromClient, paced: true);
                await Task.WhenAny(up, down);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task PumpAsync(Stream from, Stream to, bool paced)
    {
        byte[] buffer = new byte[paced ? ReadBytes : 64 * 1024];
        long next = Stopwatch.GetTimestamp();
        try
        {
            while (true)
            {
                int read = await from.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    return;
                }

                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                long rate = paced ? BytesPerSecond : 0;
                if (rate <= 0)
                {
                    next = Stopwatch.GetTimestamp();
                    continue;
                }

                // The next read is due once these bytes have been "consumed" at the rate.
                next = Math.Max(next, Stopwatch.GetTimestamp()) + (read * Stopwatch.Frequency / rate);
                TimeSpan wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
                if (wait > TimeSpan.FromMilliseconds(1))
                {
                    await Task.Delay(wait, _stop.Token);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }
}
