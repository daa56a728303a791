namespace WatcherSync;

/// <summary>
/// A consumer that declares which items it cares about (<see cref="Filter"/>) and what counts as a change
/// (<see cref="Equals(T, T)"/>), and is told only of meaningful changes to that view.
/// </summary>
/// <typeparam name="T">The item type.</typeparam>
public interface IFollower<T>
{
    /// <summary>Returns true when <paramref name="item"/> belongs in the view.</summary>
    bool Filter(T item);

    /// <summary>Returns true when <paramref name="current"/> is no change from <paramref name="previous"/>.</summary>
    bool Equals(T previous, T current);

    /// <summary>Called when an item enters the view.</summary>
    ValueTask NewAsync(T current);

    /// <summary>Called when an item in the view changes (<see cref="Equals(T, T)"/> is false).</summary>
    ValueTask UpdatedAsync(T previous, T current);

    /// <summary>Called when an item leaves the view (deleted, or no longer passing the filter), with its last copy.</summary>
    ValueTask DeletedAsync(T previous);

    /// <summary>Called after each batch of calls. The first call comes once the whole initial state is known.</summary>
    ValueTask BatchDoneAsync();
}
