using System.Net;
using System.Net.Sockets;
using FluentAssertions;
using Microsoft.Extensions.Logging.Testing;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// The "http:// pointed at a TLS relay" probe (a TLS handshake beside a call that ended before the relay
/// said anything): what it costs a plain relay that did answer.
/// </summary>
public sealed class RelayTlsProbeTests
{
    [Fact]
    public async Task APlainRelayThatAnswersFull_IsNotProbedForTls_OnEveryRetry()
    {
        await using var store = new InMemoryBackend();
        await store.CreateAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "v"));
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store, o => o.MaxConnections = 1));
        await using var occupant = new RelaySyncer(Relays.Client(relay.Address), new RecordingCallbacks());
        occupant.Start();
        await Eventually.Within(occupant.WaitForInSyncAsync(), "a first client takes the relay's one place");

        await using FirstByteProxy proxy = FirstByteProxy.Start(relay.Port);
        var logs = new FakeLogCollector();
        RelaySyncerOptions options = Relays.Client(proxy.Address);
        options.LoggerFactory = FakeLogs.Factory(logs);
        await using var syncer = new RelaySyncer(options, new RecordingCallbacks());
        syncer.Start();
        await Eventually.True(() => logs.GetSnapshot().Count(r => r.Id.Id == 7101) >= 3, "the client has been told 'full' three times");

        // The relay answered each call with a gRPC status (ResourceExhausted): it said something, in plain HTTP/2, so
        // there is nothing to probe. Each probe is one more connection and handshake against a relay that is already full.
        proxy.TlsHellos.Should().Be(0, "a relay that answered the call with its status is plain HTTP/2, not TLS ({0} connections in all)", proxy.Connections);
    }

    [Fact]
    public async Task ARelayThatAnsweredWhileTheProbeRan_IsNotCutOffAsTls()
    {
        // One address that speaks plain HTTP/2 and TLS (an edge proxy that routes by the first bytes), whose first
        // answer takes longer than TlsProbe.Delay: the client probes, and the relay answers while the probe runs.
        using var certificates = new TestCertificates();
        await using var store = new InMemoryBackend();
        await store.CreateAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "v"));
        await using TestRelay plain = await TestRelay.StartAsync(Relays.Feed(store));
        await using TestRelay tls = await TestRelay.StartAsync(Relays.Feed(store), serverCertificate: certificates.Server);
        await using FirstByteProxy proxy = FirstByteProxy.Start(plain.Port, tls.Port, holdPlainUntilTls: true);
        var callbacks = new RecordingCallbacks();
        await using var syncer = new RelaySyncer(Relays.Client(proxy.Address), callbacks);
        syncer.Start();
        await Eventually.Within(syncer.WaitForInSyncAsync(), "the relay answers over plain HTTP/2 once the probe has begun");

        proxy.ReleaseTls();
        await Eventually.True(() => proxy.TlsClosed >= 1, "the probe has had its answer and closed");
        await store.CreateAsync(new KVPair(new PathKey(Relays.Key(0, 2)), "after"));
        await Eventually.True(() => callbacks.Picture.ContainsKey(Relays.Key(0, 2)), "the client goes on");

        callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Should().BeEmpty("the relay answered on http:// (the client was in sync over it): it is no TLS-only endpoint to refuse");
        syncer.Resumes.Should().Be(0, "the connection that answered was not cut");
    }

    /// <summary>
    /// A loopback TCP proxy that tells plain connections from TLS ones by their first byte (0x16 opens a TLS handshake)
    /// and counts them; optionally it sends TLS ones to another port (one address that speaks both, as an edge proxy
    /// that inspects the first bytes does), holds the plain replies until a TLS connection has come, and holds the TLS
    /// replies until told.
    /// </summary>
    private sealed class FirstByteProxy : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly int _target;
        private readonly int _tlsTarget;
        private readonly bool _holdPlainUntilTls;
        private readonly TaskCompletionSource _tlsCame = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _tlsReleased = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly CancellationTokenSource _stop = new();
        private Task _accepting = Task.CompletedTask;
        private int _tlsHellos;
        private int _tlsClosed;
        private int _connections;

        private FirstByteProxy(TcpListener listener, int target, int? tlsTarget, bool holdPlainUntilTls)
        {
            _listener = listener;
            _target = target;
            _tlsTarget = tlsTarget ?? target;
            _holdPlainUntilTls = holdPlainUntilTls;
            if (tlsTarget is null)
            {
                _tlsReleased.SetResult();
            }
        }

        public Uri Address => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");

        public int TlsHellos => Volatile.Read(ref _tlsHellos);

        /// <summary>Gets how many TLS connections have ended (the client or the server closed them).</summary>
        public int TlsClosed => Volatile.Read(ref _tlsClosed);

        public int Connections => Volatile.Read(ref _connections);

        /// <param name="target">Where plain connections go (and TLS ones, unless <paramref name="tlsTarget"/>).</param>
        /// <param name="tlsTarget">Where TLS connections go, their replies held until <see cref="ReleaseTls"/>; null for <paramref name="target"/>, nothing held.</param>
        /// <param name="holdPlainUntilTls">Whether the replies of plain connections wait until a TLS connection has come.</param>
        public static FirstByteProxy Start(int target, int? tlsTarget = null, bool holdPlainUntilTls = false)
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var proxy = new FirstByteProxy(listener, target, tlsTarget, holdPlainUntilTls);
            proxy._accepting = proxy.AcceptAsync();
            return proxy;
        }

        /// <summary>Lets the TLS replies through.</summary>
        public void ReleaseTls() => _tlsReleased.TrySetResult();

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            await _accepting;
            _stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (true)
            {
                TcpClient inbound;
                try
                {
                    inbound = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                    return;
                }

                _ = Task.Run(() => PipeAsync(inbound));
            }
        }

        private async Task PipeAsync(TcpClient inbound)
        {
            bool tls = false;
            using (inbound)
            {
                using var outbound = new TcpClient();
                try
                {
                    NetworkStream client = inbound.GetStream();
                    byte[] first = new byte[1];
                    if (await client.ReadAsync(first, _stop.Token) == 0)
                    {
                        return;
                    }

                    Interlocked.Increment(ref _connections);
                    tls = first[0] == 0x16;
                    if (tls)
                    {
                        Interlocked.Increment(ref _tlsHellos);
                        _tlsCame.TrySetResult();
                    }

                    await outbound.ConnectAsync(IPAddress.Loopback, tls ? _tlsTarget : _target, _stop.Token);
                    NetworkStream server = outbound.GetStream();
                    await server.WriteAsync(first, _stop.Token);
                    Task requests = client.CopyToAsync(server, _stop.Token);
                    Task replies = RepliesAsync(server, client, tls ? _tlsReleased.Task : _holdPlainUntilTls ? _tlsCame.Task : Task.CompletedTask);
                    await Task.WhenAny(requests, replies);
                }
                catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
                {
                    // The connection or the test ended.
                }
            }

            if (tls)
            {
                Interlocked.Increment(ref _tlsClosed);
            }
        }

        private async Task RepliesAsync(NetworkStream server, NetworkStream client, Task held)
        {
            await held.WaitAsync(_stop.Token);
            await server.CopyToAsync(client, _stop.Token);
        }
    }
}
