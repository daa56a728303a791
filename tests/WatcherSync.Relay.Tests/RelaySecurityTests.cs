using System.Net.Http;
using FluentAssertions;
using Grpc.Core;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>Credentials, TLS with client certificates, and the connection limit, on a real relay.</summary>
public sealed class RelaySecurityTests
{
    [Fact]
    public async Task Subscribe_WithoutCredentials_IsRefusedUnlessAnonymousIsAllowed()
    {
        await using var store = new InMemoryBackend();
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store, options =>
        {
            options.AllowAnonymous = false;
            options.BearerTokens.Add("s3cret");
        }));

        RpcException refused = await RawCalls.EndingAsync(relay.Address, [RawCalls.Hello()]);

        refused.StatusCode.Should().Be(StatusCode.Unauthenticated);
        refused.Status.Detail.Should().Contain("Credentials are required");
    }

    [Fact]
    public async Task Subscribe_WithAWrongBearerToken_IsRefused_AndTheRightOneIsServed()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "v"));
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store, options =>
        {
            options.AllowAnonymous = true;
            options.BearerTokens.Add("s3cret");
        }));

        RpcException refused = await RawCalls.EndingAsync(relay.Address, [RawCalls.Hello()], new Metadata { { "authorization", "Bearer guess" } });
        refused.StatusCode.Should().Be(StatusCode.Unauthenticated, "a bad credential is refused even where anonymous access is allowed");

        var callbacks = new RecordingCallbacks();
        RelaySyncerOptions options = Relays.Client(relay.Address);
        options.BearerToken = "s3cret";
        await using var syncer = new RelaySyncer(options, callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client with the right token");
    }

    [Fact]
    public async Task Tls_ClientCertificateFromTheTrustedAuthority_IsServed_AndARogueOneIsRefused()
    {
        using var certificates = new TestCertificates();
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(1, 1)), "over tls"));
        await using TestRelay relay = await TestRelay.StartAsync(
            Relays.Feed(store, options =>
            {
                options.AllowAnonymous = false;
                options.ClientCertificateValidator = certificates.IssuedByAuthority;
            }),
            serverCertificate: certificates.Server);
        relay.Address.Scheme.Should().Be("https");

        var callbacks = new RecordingCallbacks();
        RelaySyncerOptions options = Relays.Client(relay.Address);
        options.ClientCertificate = certificates.Client;
        options.ServerCertificateValidation = (_, certificate, _, _) => certificate is not null && certificates.IssuedByAuthority(new(certificate));
        await using var syncer = new RelaySyncer(options, callbacks);
        syncer.Start();
        await Relays.ConvergedAsync(callbacks, store, "client with a trusted certificate");

        var rogueHandler = new SocketsHttpHandler();
        rogueHandler.SslOptions.ClientCertificates = [certificates.Rogue];
        rogueHandler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        RpcException refused = await RawCalls.EndingAsync(relay.Address, [RawCalls.Hello()], handler: rogueHandler);
        refused.StatusCode.Should().Be(StatusCode.Unauthenticated);
        refused.Status.Detail.Should().Contain("client certificate");

        var anonymousHandler = new SocketsHttpHandler();
        anonymousHandler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        RpcException anonymous = await RawCalls.EndingAsync(relay.Address, [RawCalls.Hello()], handler: anonymousHandler);
        anonymous.StatusCode.Should().Be(StatusCode.Unauthenticated);
    }

    [Fact]
    public async Task Subscribe_PastTheConnectionLimit_IsRefusedWithResourceExhausted_AndTheClientBacksOffToAnotherRelay()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "v"));
        await using TestRelay full = await TestRelay.StartAsync(Relays.Feed(store, options => options.MaxConnections = 2));
        await using TestRelay spare = await TestRelay.StartAsync(Relays.Feed(store));
        var first = new RecordingCallbacks();
        var second = new RecordingCallbacks();
        await using var firstSyncer = new RelaySyncer(Relays.Client(full.Address), first);
        await using var secondSyncer = new RelaySyncer(Relays.Client(full.Address), second);
        firstSyncer.Start();
        secondSyncer.Start();
        await Relays.ConvergedAsync(first, store, "first client");
        await Relays.ConvergedAsync(second, store, "second client");

        RpcException refused = await RawCalls.EndingAsync(full.Address, [RawCalls.Hello()]);
        refused.StatusCode.Should().Be(StatusCode.ResourceExhausted);
        refused.Status.Detail.Should().Contain("full");

        var third = new RecordingCallbacks();
        await using var thirdSyncer = new RelaySyncer(Relays.Client(full.Address, spare.Address), third);
        thirdSyncer.Start();
        await Relays.ConvergedAsync(third, store, "third client, served by the spare relay");
        thirdSyncer.ConnectedEndpoint.Should().Be(spare.Address);
        full.Host.Connections.Count.Should().Be(2);
    }
}
