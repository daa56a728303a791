using System.Diagnostics.Metrics;
using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;

namespace WatcherSync.Tests.Sharing;

/// <summary>A handler's buffer measures where its shared syncer does.</summary>
public sealed class SharedWatcherSyncerFactoriesTests
{
    [Fact]
    public async Task AHandlersBuffer_UsesTheSyncersMeterFactory_WhenItsOwnOptionsSetNone()
    {
        await using var store = new InMemoryBackend();
        var meters = new CountingMeterFactory();
        await using var shared = new SharedWatcherSyncer(store, [new ResourceType(new PrefixListOptions("/a/"))], new WatcherSyncerOptions { MeterFactory = meters });
        shared.Start();
        await Eventually.Within(shared.WaitForInSyncAsync(), "the shared syncer is in sync");
        int before = meters.Created;

        SyncerHandlerRegistration registration = shared.AddHandler(new RecordingCallbacks());
        await Eventually.Within(registration.WaitForSyncedAsync(), "the handler syncs");

        meters.Created.Should().BeGreaterThan(before, "the handler's buffer made its meter with the syncer's factory, not a meter of its own nobody collects");
    }

    private sealed class CountingMeterFactory : IMeterFactory
    {
        private readonly List<Meter> _meters = [];

        public int Created
        {
            get
            {
                lock (_meters)
                {
                    return _meters.Count;
                }
            }
        }

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            lock (_meters)
            {
                _meters.Add(meter);
            }

            return meter;
        }

        public void Dispose()
        {
            lock (_meters)
            {
                _meters.ForEach(m => m.Dispose());
            }
        }
    }
}
