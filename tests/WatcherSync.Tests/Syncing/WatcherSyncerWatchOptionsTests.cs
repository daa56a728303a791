using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Tests.Syncing;

public sealed class WatcherSyncerWatchOptionsTests
{
    [Fact]
    public async Task ASyncerMadeWithItsConstructor_WatchesWithoutPreviousValues()
    {
        // The syncer never reads WatchEvent.Old (its caches know every key), and on etcd prev_kv costs a read per event:
        // however the syncer is made (new WatcherSyncer(client, ...) or client.CreateSyncer), it must not ask for them.
        await using var store = new InMemoryBackend();
        var recording = new WatchOptionsRecorder(store);
        await using var syncer = new WatcherSyncer(recording, [new ResourceType(new PrefixListOptions("/a/"))], new SyncerCallbacks());
        syncer.Start();
        await Eventually.Within(syncer.WaitForInSyncAsync(), "the syncer is in sync");
        await Eventually.True(() => !recording.Seen.IsEmpty, "the syncer opens its watch");

        recording.Seen.Should().OnlyContain(o => !o.PreviousValues);
    }

    private sealed class WatchOptionsRecorder(IBackendClient inner) : DelegatingBackend(inner)
    {
        public System.Collections.Concurrent.ConcurrentQueue<WatchOptions> Seen { get; } = new();

        public override Task<IWatch> WatchAsync(IListOptions list, WatchOptions options, CancellationToken cancellationToken = default)
        {
            Seen.Enqueue(options);
            return base.WatchAsync(list, options, cancellationToken);
        }
    }
}
