using FluentAssertions;
using WatcherSync.Etcd.Tests.Infrastructure;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Etcd.Tests;

/// <summary>Edge cases of the etcd watch's rejoin backoff (EtcdClientOptions.WatchReconnectBackoff) with bad option values.</summary>
[Collection(EtcdCollection.Name)]
public sealed class EtcdWatchBackoffOptionsTests(EtcdFixture fixture)
{
    private readonly string _prefix = $"/watch-backoff/{Guid.NewGuid():N}/";

    [Fact]
    public async Task WatchReconnectBackoff_WithAFactorBelowOne_IsRefused_OrASyncerOnTheClientStillSeesWrites()
    {
        // Every other bad option is refused when the client is made (EtcdClientOptions.Validate lists them all); the
        // backoff's own rules (BackoffOptions: Factor at least 1) are not checked there. Either the client refuses the
        // options, or a syncer on it works against a live etcd: it lists, and then sees a write made after InSync.
        EtcdClientOptions options = fixture.Options();
        options.WatchReconnectBackoff = new BackoffOptions { Factor = 0.5 };
        EtcdBackendClient client;
        try
        {
            client = new EtcdBackendClient(options);
        }
        catch (ArgumentException ex)
        {
            ex.Message.Should().Contain("Factor");
            return;
        }

        await using (client)
        {
            var sink = new RecordingCallbacks();
            await using ISyncer syncer = client.CreateSyncer([new ResourceType(new PrefixListOptions(_prefix))], sink);
            syncer.Start();
            await Eventually.Within(syncer.WaitForInSyncAsync(), "the syncer lists and is in sync");

            await client.CreateAsync(new KVPair(new PathKey(_prefix + "after"), "1"));
            await Eventually.True(() => sink.Picture.ContainsKey(_prefix + "after"), "the write after InSync reaches the syncer's callbacks");
        }
    }
}
