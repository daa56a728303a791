using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using FluentAssertions;
using Grpc.Core;
using WatcherSync.InMemory;
using WatcherSync.Relay.Protocol;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// Bad input gets a clear error on its own connection, and the relay and its other clients carry on: after each bad
/// call, a well-behaved client that was connected throughout still receives a new write.
/// </summary>
public sealed class RelayBadInputTests : IAsyncLifetime
{
    private readonly InMemoryBackend _store = new();
    private readonly RecordingCallbacks _bystander = new();
    private TestRelay _relay = null!;
    private RelaySyncer _bystanderSyncer = null!;
    private int _writes;

    public async Task InitializeAsync()
    {
        _relay = await TestRelay.StartAsync(Relays.Feed(_store, options => options.HelloTimeout = TimeSpan.FromMilliseconds(500)));
        _bystanderSyncer = new RelaySyncer(Relays.Client(_relay.Address), _bystander);
        _bystanderSyncer.Start();
        await BystanderStillServedAsync();
    }

    public async Task DisposeAsync()
    {
        await _bystanderSyncer.DisposeAsync();
        await _relay.DisposeAsync();
        await _store.DisposeAsync();
    }

    [Fact]
    public async Task FirstMessageNotAHello_IsRefusedWithInvalidArgument()
    {
        RpcException refused = await RawCalls.EndingAsync(_relay.Address, [new ClientMessage { Pong = new Pong { Id = 1 } }]);

        refused.StatusCode.Should().Be(StatusCode.InvalidArgument);
        refused.Status.Detail.Should().Contain("must be a hello");
        await BystanderStillServedAsync();
    }

    [Fact]
    public async Task UnknownFeed_IsRefusedWithNotFound_NamingTheFeedsServed()
    {
        RpcException refused = await RawCalls.EndingAsync(_relay.Address, [RawCalls.Hello("nope")]);

        refused.StatusCode.Should().Be(StatusCode.NotFound);
        refused.Status.Detail.Should().Contain("'nope'").And.Contain("default");
        await BystanderStillServedAsync();
    }

    [Fact]
    public async Task UnsupportedProtocolVersion_IsRefusedWithInvalidArgument()
    {
        RpcException refused = await RawCalls.EndingAsync(_relay.Address, [RawCalls.Hello(version: 99)]);

        refused.StatusCode.Should().Be(StatusCode.InvalidArgument);
        refused.Status.Detail.Should().Contain("version 99");
        await BystanderStillServedAsync();
    }

    [Fact]
    public async Task UnknownPrefix_IsRefusedWithInvalidArgument()
    {
        RpcException refused = await RawCalls.EndingAsync(_relay.Address, [RawCalls.Hello(prefixes: "/not/a/feed/prefix/")]);

        refused.StatusCode.Should().Be(StatusCode.InvalidArgument);
        refused.Status.Detail.Should().Contain("/not/a/feed/prefix/");
        await BystanderStillServedAsync();
    }

    [Fact]
    public async Task SecondHello_EndsThatConnectionWithInvalidArgument()
    {
        RpcException refused = await RawCalls.EndingAsync(_relay.Address, [RawCalls.Hello(), RawCalls.Hello()]);

        refused.StatusCode.Should().Be(StatusCode.InvalidArgument);
        refused.Status.Detail.Should().Contain("only pongs");
        await BystanderStillServedAsync();
    }

    [Fact]
    public async Task ClientThatSendsNothing_IsDroppedWithDeadlineExceeded()
    {
        RpcException refused = await RawCalls.EndingAsync(_relay.Address, []);

        refused.StatusCode.Should().Be(StatusCode.DeadlineExceeded);
        refused.Status.Detail.Should().Contain("No hello");
        await BystanderStillServedAsync();
    }

    [Fact]
    public async Task StreamEndedBeforeAHello_IsRefusedWithInvalidArgument()
    {
        RpcException refused = await RawCalls.EndingAsync(_relay.Address, [], completeRequests: true);

        refused.StatusCode.Should().Be(StatusCode.InvalidArgument);
        refused.Status.Detail.Should().Contain("ended before a hello");
        await BystanderStillServedAsync();
    }

    [Fact]
    public async Task GarbageFrame_GetsAnErrorStatusOnThatCall()
    {
        // A gRPC frame (uncompressed, length-prefixed) whose bytes are not a ClientMessage.
        byte[] garbage = [0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x34];
        byte[] frame = [0, 0, 0, 0, (byte)garbage.Length, .. garbage];
        using var http = new HttpClient(new SocketsHttpHandler());
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_relay.Address, "/watchersync.relay.v1.Relay/Subscribe"))
        {
            Content = new ByteArrayContent(frame),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        using HttpResponseMessage response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead);
        string status = response.TrailingHeaders.TryGetValues("grpc-status", out IEnumerable<string>? values)
            ? values.Single()
            : response.Headers.GetValues("grpc-status").Single();

        status.Should().Be(((int)StatusCode.InvalidArgument).ToString(System.Globalization.CultureInfo.InvariantCulture));
        await BystanderStillServedAsync();
    }

    private async Task BystanderStillServedAsync()
    {
        string key = Relays.Key(0, Interlocked.Increment(ref _writes));
        await _store.ApplyAsync(new KVPair(new PathKey(key), "still here"));
        await Eventually.True(() => _bystander.Picture.ContainsKey(key), "the well-behaved client still receives writes");
        _bystander.Violations.Should().BeEmpty();
    }
}
