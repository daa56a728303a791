namespace WatcherSync.Cli.Demo;

/// <summary>A set of slots with O(1) add, remove and uniform random pick.</summary>
internal sealed class SlotSet
{
    private readonly List<int> _items = [];
    private readonly Dictionary<int, int> _positions = [];

    public int Count => _items.Count;

    public void Add(int slot)
    {
        if (_positions.TryAdd(slot, _items.Count))
        {
            _items.Add(slot);
        }
    }

    public void Remove(int slot)
    {
        if (!_positions.Remove(slot, out int position))
        {
            return;
        }

        int last = _items[^1];
        _items.RemoveAt(_items.Count - 1);
        if (position < _items.Count)
        {
            _items[position] = last;
            _positions[last] = position;
        }
    }

    public int Pick(Random random) => _items[random.Next(_items.Count)];
}
