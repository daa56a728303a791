using FluentAssertions;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging.Testing;
using WatcherSync.InMemory;
using WatcherSync.Relay.Server;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// Refusals that retrying cannot cure reach SyncFailed at once, with the relay's reason, and are retried only at
/// MaxReconnectDelay; a relay that is down or restarting is retried as before, without SyncFailed.
/// </summary>
public sealed class RelayRefusalTests
{
    public static TheoryData<string> Refusals => new()
    {
        "wrong token",
        "missing token",
        "unknown feed",
        "prefix not served",
        "untrusted certificate",
        "https to an http relay",
        "http to an https relay",
        "relay without HTTP/2",
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task PermanentRefusal_ReachesSyncFailedAtOnce_WithTheReason_AndIsRetriedOnlyAtTheLongestDelay(string refusal)
    {
        using var certificates = new TestCertificates();
        await using var store = new InMemoryBackend();
        Scenario scenario = Scenario.For(refusal, certificates);
        await using TestRelay relay = await TestRelay.StartAsync(Relays.Feed(store, scenario.Server), serverCertificate: scenario.Tls ? certificates.Server : null, protocols: scenario.Protocols);
        var endpoint = new UriBuilder(relay.Address) { Scheme = scenario.ClientScheme }.Uri;
        var logs = new FakeLogCollector();
        var callbacks = new RecordingCallbacks();
        RelaySyncerOptions options = PatientClient(endpoint, logs);
        scenario.Client(options);
        await using var syncer = new RelaySyncer(options, callbacks);
        syncer.Start();

        await Eventually.True(
            () => callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Any(),
            $"a refusal ({refusal}) is reported at once, not after DisconnectedTimeout; the client logged: {string.Join(" | ", logs.GetSnapshot().Select(r => r.Id.Id + " " + r.Message + " " + r.Exception))}",
            TimeSpan.FromSeconds(10));
        Exception error = callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().First().Error;
        RelayRefusedException refused = error.Should().BeOfType<RelayRefusedException>().Subject;
        refused.Endpoint.Should().Be(endpoint);
        refused.Message.Should().Contain(scenario.Reason).And.Contain(endpoint.ToString()).And.NotContain("StatusCode=").And.NotContain("DebugException");
        syncer.Status.Should().Be(SyncStatus.WaitForDatastore);

        // The delay logged with the refusal: an attempt before it may have ended otherwise (under load, the TLS probe
        // of an http:// endpoint can miss once; the next attempt's probe finds the certificate).
        await Eventually.True(() => NextTries(logs, scenario.Reason).Any(), "the client logs when it will try again after the refusal");
        NextTries(logs, scenario.Reason).First().Should().BeGreaterThanOrEqualTo(TimeSpan.FromMinutes(5), "a refused client waits MaxReconnectDelay (with jitter down to half) before it asks again");
    }

    [Fact]
    public async Task RelayDown_IsRetriedAtTheShortDelays_WithoutSyncFailed_UntilItIsBack()
    {
        await using var store = new InMemoryBackend();
        await store.ApplyAsync(new KVPair(new PathKey(Relays.Key(0, 1)), "v"));
        TestRelay gone = await TestRelay.StartAsync(Relays.Feed(store));
        int port = gone.Port;
        Uri address = gone.Address;
        await gone.KillAsync();

        var logs = new FakeLogCollector();
        var callbacks = new RecordingCallbacks();
        RelaySyncerOptions options = PatientClient(address, logs);
        await using var syncer = new RelaySyncer(options, callbacks);
        syncer.Start();

        await Eventually.True(() => NextTries(logs).Count >= 3, "the client tries again and again");
        NextTries(logs).Should().AllSatisfy(delay => delay.Should().BeLessThan(TimeSpan.FromSeconds(1), "a relay that is down may be back any moment"));
        callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Should().BeEmpty("a relay that is down is not a refusal");

        await using TestRelay back = await TestRelay.StartAsync(Relays.Feed(store), port);
        await Relays.ConvergedAsync(callbacks, store, "client once the relay is back");
        callbacks.Calls.OfType<RecordingCallbacks.SyncFailedCall>().Should().BeEmpty();
    }

    /// <summary>
    /// A client whose DisconnectedTimeout and MaxReconnectDelay are ten minutes: only a refusal can bring SyncFailed
    /// within a test's deadline, and a delay of minutes can only be the one after a refusal.
    /// </summary>
    private static RelaySyncerOptions PatientClient(Uri endpoint, FakeLogCollector logs)
    {
        RelaySyncerOptions options = Relays.Client(endpoint);
        options.LoggerFactory = FakeLogs.Factory(logs);
        options.DisconnectedTimeout = TimeSpan.FromMinutes(10);
        options.MaxReconnectDelay = TimeSpan.FromMinutes(10);
        return options;
    }

    /// <summary>The delays the client logged before each next try (event 7101), of the ends whose reason says <paramref name="reason"/> when given.</summary>
    private static List<TimeSpan> NextTries(FakeLogCollector logs, string? reason = null) =>
        [.. logs.GetSnapshot()
            .Where(r => r.Id.Id == 7101 && (reason is null || r.Message.Contains(reason, StringComparison.Ordinal)))
            .Select(r => TimeSpan.Parse(r.StructuredState!.First(p => p.Key == "Delay").Value!, System.Globalization.CultureInfo.InvariantCulture))];

    /// <summary>
    /// A refusal, as the client is set up for it and as it reads. <see cref="Reason"/> is words of the refusal alone: the
    /// delay checked is the one logged with it, and a transient end of an attempt before (its detail may name TLS or
    /// HTTP/2 too) must not be taken for it.
    /// </summary>
    private sealed record Scenario(Action<RelayServerOptions> Server, bool Tls, HttpProtocols Protocols, Action<RelaySyncerOptions> Client, string ClientScheme, string Reason)
    {
        public static Scenario For(string refusal, TestCertificates certificates)
        {
            Action<RelayServerOptions> open = _ => { };
            Action<RelayServerOptions> tokens = o =>
            {
                o.AllowAnonymous = false;
                o.BearerTokens.Add("s3cret");
            };
            Action<RelaySyncerOptions> asIs = _ => { };
            Action<RelaySyncerOptions> trust = o => o.ServerCertificateValidation = (_, certificate, _, _) => certificate is not null && certificates.IssuedByAuthority(new(certificate));
            return refusal switch
            {
                "wrong token" => new(tokens, false, HttpProtocols.Http2, o => o.BearerToken = "guess", "http", "bearer token was not accepted"),
                "missing token" => new(tokens, false, HttpProtocols.Http2, asIs, "http", "Credentials are required"),
                "unknown feed" => new(open, false, HttpProtocols.Http2, o => o.Feed = "no-such-feed", "http", "no feed 'no-such-feed'"),
                "prefix not served" => new(open, false, HttpProtocols.Http2, o => o.Prefixes.Add("/nowhere/"), "http", "no prefix under '/nowhere/'"),
                "untrusted certificate" => new(open, true, HttpProtocols.Http2, asIs, "https", "certificate is not trusted"),
                "https to an http relay" => new(open, false, HttpProtocols.Http2, trust, "https", "the TLS handshake failed"),
                "http to an https relay" => new(open, true, HttpProtocols.Http2, asIs, "http", "it speaks TLS (https)"),
                "relay without HTTP/2" => new(open, false, HttpProtocols.Http1, asIs, "http", "does not speak HTTP/2"),
                _ => throw new ArgumentOutOfRangeException(nameof(refusal), refusal, null),
            };
        }
    }
}
