using CsCheck;
using WatcherSync.InMemory;

namespace WatcherSync.Testing;

/// <summary>What a <see cref="StoreStep"/> does to the store.</summary>
public enum StoreStepKind
{
    /// <summary>Creates or updates a key.</summary>
    Apply,

    /// <summary>Deletes a key (nothing happens when it is not there).</summary>
    Delete,

    /// <summary>Deletes every key under a prefix, in one revision.</summary>
    DeletePrefix,

    /// <summary>Compacts the store at its current revision.</summary>
    Compact,

    /// <summary>Lets the syncer run for a moment between bursts.</summary>
    Yield,
}

/// <summary>One generated step against the in-memory store: <see cref="StoreScript.Prefixes"/>[Prefix] + Key.</summary>
public sealed record StoreStep(StoreStepKind Kind, int Prefix, int Key)
{
    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        StoreStepKind.Apply or StoreStepKind.Delete => $"{Kind} {StoreScript.Prefixes[Prefix]}{Key}",
        StoreStepKind.DeletePrefix => $"{Kind} {StoreScript.Prefixes[Prefix]}",
        _ => Kind.ToString(),
    };
}

/// <summary>
/// Generated write sequences for the properties that run a syncer over the in-memory store: writes, deletes, prefix
/// deletes and compactions over three prefixes, of which the syncer watches the first two (the third checks that
/// nothing outside the watched prefixes leaks in).
/// </summary>
public static class StoreScript
{
    /// <summary>The prefixes written to.</summary>
    public static readonly string[] Prefixes = ["/a/", "/b/", "/c/"];

    /// <summary>The prefixes a syncer under test watches.</summary>
    public static readonly string[] Watched = ["/a/", "/b/"];

    /// <summary>One step: mostly writes and deletes over 20 keys per prefix, now and then a prefix delete, a compaction or a pause.</summary>
    public static Gen<StoreStep> Step { get; } = Gen.Frequency(
        (60, Gen.Select(Gen.Int[0, 2], Gen.Int[0, 19], (p, k) => new StoreStep(StoreStepKind.Apply, p, k))),
        (25, Gen.Select(Gen.Int[0, 2], Gen.Int[0, 19], (p, k) => new StoreStep(StoreStepKind.Delete, p, k))),
        (3, Gen.Int[0, 2].Select(p => new StoreStep(StoreStepKind.DeletePrefix, p, 0))),
        (6, Gen.Const(new StoreStep(StoreStepKind.Compact, 0, 0))),
        (6, Gen.Const(new StoreStep(StoreStepKind.Yield, 0, 0))));

    /// <summary>Runs the steps against the store, in order; returns how many wrote and how many compacted.</summary>
    public static async Task<(int Writes, int Compactions)> RunAsync(InMemoryBackend store, IReadOnlyList<StoreStep> steps)
    {
        int writes = 0;
        int compactions = 0;
        for (int i = 0; i < steps.Count; i++)
        {
            StoreStep step = steps[i];
            string key = $"{Prefixes[step.Prefix]}{step.Key}";
            try
            {
                switch (step.Kind)
                {
                    case StoreStepKind.Apply:
                        await store.ApplyAsync(new KVPair(new PathKey(key), $"v{i}"));
                        writes++;
                        break;
                    case StoreStepKind.Delete:
                        await store.DeleteAsync(new PathKey(key));
                        writes++;
                        break;
                    case StoreStepKind.DeletePrefix:
                        await store.DeletePrefixAsync(Prefixes[step.Prefix]);
                        writes++;
                        break;
                    case StoreStepKind.Compact:
                        store.Compact(store.Revision);
                        compactions++;
                        break;
                    default:
                        await Task.Yield();
                        break;
                }
            }
            catch (ResourceNotFoundException)
            {
                // Deleting a key that is not there.
            }
            catch (RevisionExpiredException)
            {
                // Compacted twice at the same revision.
            }
            catch (ArgumentOutOfRangeException) when (step.Kind == StoreStepKind.Compact)
            {
                // Nothing written yet: there is no revision to compact at.
            }
        }

        return (writes, compactions);
    }

    /// <summary>The store's picture of the watched prefixes: path → value.</summary>
    public static async Task<Dictionary<string, object?>> PictureAsync(InMemoryBackend store)
    {
        Dictionary<string, object?> picture = new(StringComparer.Ordinal);
        foreach (string prefix in Watched)
        {
            foreach (KVPair kv in (await store.ListAsync(new PrefixListOptions(prefix))).KVPairs)
            {
                picture[kv.Key.DefaultPath] = kv.Value;
            }
        }

        return picture;
    }
}
