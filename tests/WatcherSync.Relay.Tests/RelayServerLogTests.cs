using FluentAssertions;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>What a relay's operator reads about its clients: who was refused and why, who was served.</summary>
public sealed class RelayServerLogTests
{
    [Fact]
    public async Task RefusedAndAcceptedClients_AreLogged_WithTheClientItsAddressAndItsFeed()
    {
        await using var store = new InMemoryBackend();
        var logs = new FakeLogCollector();
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store), logs: logs);

        RelaySyncerOptions lost = Relays.Client(relay.Address);
        lost.Feed = "no-such-feed";
        await using (var refused = new RelaySyncer(lost, new RecordingCallbacks()))
        {
            refused.Start();
            await Eventually.True(() => Events(logs, 7007).Count != 0, "the relay logs the refusal");
        }

        var callbacks = new RecordingCallbacks();
        await using var served = new RelaySyncer(Relays.Client(relay.Address), callbacks);
        served.Start();
        await Eventually.True(() => Events(logs, 7005).Count != 0, "the relay logs the client it serves");

        FakeLogRecord refusal = Events(logs, 7007)[0];
        refusal.Level.Should().Be(LogLevel.Warning);
        State(refusal, "Client").Should().Be("test-client");
        State(refusal, "Peer").Should().Contain("127.0.0.1");
        State(refusal, "Feed").Should().Be("no-such-feed");
        State(refusal, "Detail").Should().Contain("no feed 'no-such-feed'");

        FakeLogRecord accepted = Events(logs, 7005)[0];
        accepted.Level.Should().Be(LogLevel.Information);
        State(accepted, "Client").Should().Be("test-client");
        State(accepted, "Peer").Should().Contain("127.0.0.1");
        State(accepted, "Feed").Should().Be("default");
    }

    [Fact]
    public async Task ClientRefusedForItsCredentials_IsLogged_WithItsAddress()
    {
        await using var store = new InMemoryBackend();
        var logs = new FakeLogCollector();
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store, o => o.AllowAnonymous = false), logs: logs);

        await using var refused = new RelaySyncer(Relays.Client(relay.Address), new RecordingCallbacks());
        refused.Start();
        await Eventually.True(() => Events(logs, 7007).Count != 0, "the relay logs the refusal");

        FakeLogRecord refusal = Events(logs, 7007)[0];
        State(refusal, "Peer").Should().Contain("127.0.0.1");
        State(refusal, "Detail").Should().Contain("Credentials are required");
    }

    [Fact]
    public async Task RelayOnAnEndpointWithoutHttp2_WarnsAtStart()
    {
        await using var store = new InMemoryBackend();
        var logs = new FakeLogCollector();
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store), protocols: HttpProtocols.Http1, logs: logs);

        await Eventually.True(() => Events(logs, 7014).Count != 0, "the relay warns that clients cannot connect");

        FakeLogRecord warning = Events(logs, 7014)[0];
        warning.Level.Should().Be(LogLevel.Warning);
        warning.Message.Should().Contain("HTTP/2").And.Contain(relay.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RelayOnAnHttp2Endpoint_DoesNotWarn(bool tls)
    {
        using var certificates = new TestCertificates();
        await using var store = new InMemoryBackend();
        var logs = new FakeLogCollector();
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store), serverCertificate: tls ? certificates.Server : null, protocols: tls ? HttpProtocols.Http1AndHttp2 : HttpProtocols.Http2, logs: logs);

        await Eventually.True(() => Events(logs, 7015).Count != 0, "the relay has asked its endpoints for HTTP/2");

        State(Events(logs, 7015)[0], "Addresses").Should().Contain(relay.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Events(logs, 7014).Should().BeEmpty();
    }

    private static List<FakeLogRecord> Events(FakeLogCollector logs, int id) => [.. logs.GetSnapshot().Where(r => r.Id.Id == id)];

    private static string? State(FakeLogRecord record, string key) => record.StructuredState!.FirstOrDefault(p => p.Key == key).Value;
}
