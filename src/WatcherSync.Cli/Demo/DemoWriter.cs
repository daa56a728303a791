using WatcherSync.InMemory;

namespace WatcherSync.Cli.Demo;

/// <summary>
/// One writer. It owns the slots whose number modulo the writer count is its index, so it always knows which of its
/// keys exist and never races another writer: it creates, updates and deletes them at random, and now and then
/// hammers one of its two hot keys with a burst of updates (what the dedupe buffer is for).
/// </summary>
internal sealed class DemoWriter
{
    /// <summary>Steps between two pauses; with <see cref="Pause"/> this paces a writer at a few thousand writes a second.</summary>
    private const int StepsPerPause = 20;

    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(5);

    private readonly InMemoryBackend _store;
    private readonly WriteCounters _counters;
    private readonly Random _random;
    private readonly SlotSet _live = new();
    private readonly SlotSet _free = new();
    private readonly List<int> _hot = [];
    private readonly List<int> _initial = [];
    private readonly Dictionary<int, long> _generations = [];

    public DemoWriter(InMemoryBackend store, KeySpace keys, int index, int writerCount, int seed, WriteCounters counters)
    {
        _store = store;
        _counters = counters;
        _random = new Random(HashCode.Combine(seed, index));
        for (int slot = index; slot < keys.Slots; slot += writerCount)
        {
            // The first two watched slots a writer owns are its hot keys: always present, never deleted.
            if (_hot.Count < 2 && KeySpace.IsWatched(slot))
            {
                _hot.Add(slot);
            }
            else if (slot < keys.InitialKeys)
            {
                _initial.Add(slot);
            }
            else
            {
                _free.Add(slot);
            }
        }
    }

    /// <summary>Creates this writer's share of the initial keys, and its hot keys.</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        foreach (int slot in _hot)
        {
            await CreateAsync(slot, cancellationToken);
        }

        foreach (int slot in _initial)
        {
            await CreateAsync(slot, cancellationToken);
        }
    }

    /// <summary>Writes until cancelled; cancellation ends it normally.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                for (int i = 0; i < StepsPerPause; i++)
                {
                    await StepAsync(cancellationToken);
                }

                await Task.Delay(Pause, TimeProvider.System, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task StepAsync(CancellationToken cancellationToken)
    {
        int roll = _random.Next(1000);
        if (roll < 5 && _hot.Count > 0)
        {
            int slot = _hot[_random.Next(_hot.Count)];
            int burst = 50 + _random.Next(200);
            for (int i = 0; i < burst; i++)
            {
                await UpdateAsync(slot, inBurst: true, cancellationToken);
            }
        }
        else if (roll < 650 && _live.Count > 0)
        {
            await UpdateAsync(_live.Pick(_random), inBurst: false, cancellationToken);
        }
        else if (roll < 825 && _free.Count > 0)
        {
            await CreateAsync(_free.Pick(_random), cancellationToken);
        }
        else if (_live.Count > 0)
        {
            await DeleteAsync(_live.Pick(_random), cancellationToken);
        }
    }

    private async Task CreateAsync(int slot, CancellationToken cancellationToken)
    {
        long generation = _generations.GetValueOrDefault(slot) + 1;
        await _store.CreateAsync(new KVPair(new PathKey(KeySpace.PathOf(slot)), DemoValues.Create(slot, generation, _random)), cancellationToken);
        _generations[slot] = generation;
        _free.Remove(slot);
        if (!_hot.Contains(slot))
        {
            _live.Add(slot);
        }

        _counters.Created();
    }

    private async Task UpdateAsync(int slot, bool inBurst, CancellationToken cancellationToken)
    {
        long generation = _generations[slot] + 1;
        await _store.UpdateAsync(new KVPair(new PathKey(KeySpace.PathOf(slot)), DemoValues.Create(slot, generation, _random)), cancellationToken);
        _generations[slot] = generation;
        _counters.Updated(inBurst);
    }

    private async Task DeleteAsync(int slot, CancellationToken cancellationToken)
    {
        await _store.DeleteAsync(new PathKey(KeySpace.PathOf(slot)), cancellationToken: cancellationToken);
        _live.Remove(slot);
        _free.Add(slot);
        _counters.Deleted();
    }
}
