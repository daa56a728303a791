namespace WatcherSync;

/// <summary>An <see cref="IFollower{T}"/> made of delegates.</summary>
/// <typeparam name="T">The item type.</typeparam>
public sealed class SimpleFollower<T> : IFollower<T>
{
    /// <summary>Gets or sets the filter; null accepts every item.</summary>
    public Func<T, bool>? FilterFn { get; set; }

    /// <summary>Gets or sets the equality; null uses <see cref="EqualityComparer{T}.Default"/> (value equality for records).</summary>
    public Func<T, T, bool>? EqualsFn { get; set; }

    /// <summary>Gets or sets the call for a new item (previous is default) or a changed one (previous is the last copy).</summary>
    public Func<T?, T, ValueTask>? OnNewUpdated { get; set; }

    /// <summary>Gets or sets the call for an item that left the view, with its last copy.</summary>
    public Func<T, ValueTask>? OnDeleted { get; set; }

    /// <summary>Gets or sets the call after each batch.</summary>
    public Func<ValueTask>? OnBatchDone { get; set; }

    /// <inheritdoc />
    public bool Filter(T item) => FilterFn?.Invoke(item) ?? true;

    /// <inheritdoc />
    public bool Equals(T previous, T current) => EqualsFn?.Invoke(previous, current) ?? EqualityComparer<T>.Default.Equals(previous, current);

    /// <inheritdoc />
    public ValueTask NewAsync(T current) => OnNewUpdated?.Invoke(default, current) ?? ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask UpdatedAsync(T previous, T current) => OnNewUpdated?.Invoke(previous, current) ?? ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask DeletedAsync(T previous) => OnDeleted?.Invoke(previous) ?? ValueTask.CompletedTask;

    /// <inheritdoc />
    public ValueTask BatchDoneAsync() => OnBatchDone?.Invoke() ?? ValueTask.CompletedTask;
}
