using FluentAssertions;
using WatcherSync.InMemory;
using WatcherSync.Testing;
using Xunit;
using Xunit.Abstractions;

namespace WatcherSync.Tests.Syncing;

/// <summary>
/// Random interleavings of writes, deletes, compactions, history overflows and watch failures against the
/// in-memory backend: once the writers stop, the consumer's picture must equal the datastore.
/// </summary>
public sealed class WatcherSyncerPropertyTests(ITestOutputHelper output)
{
    public static TheoryData<int> Seeds()
    {
        var seeds = new TheoryData<int>();
        for (int seed = 1; seed <= 24; seed++)
        {
            seeds.Add(seed);
        }

        return seeds;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task RandomWritesAndFaults_PictureConvergesToDatastore(int seed)
    {
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        await using var store = new InMemoryBackend(new InMemoryBackendOptions { HistoryCapacity = 64 });
        var faulty = new FaultyBackend(store, seed);
        var callbacks = new RecordingCallbacks();
        var options = new WatcherSyncerOptions
        {
            MinResyncInterval = TimeSpan.FromMilliseconds(1),
            ListRetryInterval = TimeSpan.FromMilliseconds(1),
            MaxUpdatesPerBatch = 1 + random.Next(50),
        };
        string[] watched = ["/a/", "/b/"];
        await using var syncer = new WatcherSyncer(faulty, watched.Select(p => new ResourceType(new PrefixListOptions(p))), callbacks, options);
        syncer.Start();

        int writes = 0;
        int compactions = 0;
        for (int i = 0; i < 1500; i++)
        {
            string key = $"{"/a/,/b/,/c/".Split(',')[random.Next(3)]}{random.Next(40)}";
            int op = random.Next(100);
            try
            {
                if (op < 65)
                {
                    await store.ApplyAsync(new KVPair(new PathKey(key), $"v{i}"));
                }
                else if (op < 90)
                {
                    await store.DeleteAsync(new PathKey(key));
                }
                else if (op < 93)
                {
                    await store.DeletePrefixAsync(key[..3]);
                }
                else if (op < 96)
                {
                    store.Compact(store.Revision);
                    compactions++;
                }
                else
                {
                    await Task.Delay(1);
                }

                writes++;
            }
            catch (ResourceNotFoundException)
            {
                // Deleting a key that is not there: fine.
            }
            catch (RevisionExpiredException)
            {
                // Compacting twice at the same revision: fine.
            }

            if (i % 50 == 0)
            {
                await Task.Yield();
            }
        }

        faulty.Faults = false;
        Dictionary<string, object?> expected = [];
        foreach (string prefix in watched)
        {
            foreach (KVPair kv in (await store.ListAsync(new PrefixListOptions(prefix))).KVPairs)
            {
                expected[kv.Key.DefaultPath] = kv.Value;
            }
        }

        try
        {
            await Eventually.True(
                () => callbacks.LastStatus == SyncStatus.InSync && PictureEquals(callbacks.Picture, expected),
                $"seed {seed}: the picture converges to the datastore ({expected.Count} keys)");
        }
        catch (TimeoutException)
        {
            Dictionary<string, object?> picture = callbacks.Picture;
            output.WriteLine($"status {callbacks.LastStatus}; statuses {string.Join(",", callbacks.Statuses)}");
            output.WriteLine($"missing: {string.Join(" ", expected.Where(p => !picture.ContainsKey(p.Key)).Select(p => p.Key))}");
            output.WriteLine($"extra: {string.Join(" ", picture.Where(p => !expected.ContainsKey(p.Key)).Select(p => p.Key))}");
            output.WriteLine($"stale: {string.Join(" ", expected.Where(p => picture.TryGetValue(p.Key, out object? v) && !Equals(v, p.Value)).Select(p => $"{p.Key}={picture[p.Key]}!={p.Value}"))}");
            throw;
        }
        output.WriteLine($"{writes} operations, {compactions} compactions, {faulty.Injected} faults, {callbacks.AllUpdates.Count} updates");
        callbacks.Violations.Should().BeEmpty($"seed {seed}");
        callbacks.Calls.First().Should().Be(SyncStatus.ResyncInProgress);
        callbacks.AllUpdates.Should().NotContain(u => u.KVPair.Key.DefaultPath.StartsWith("/c/", StringComparison.Ordinal));
    }

    private static bool PictureEquals(Dictionary<string, object?> picture, Dictionary<string, object?> expected) =>
        picture.Count == expected.Count && expected.All(p => picture.TryGetValue(p.Key, out object? v) && Equals(v, p.Value));
}
