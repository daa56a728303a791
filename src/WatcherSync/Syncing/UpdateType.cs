namespace WatcherSync;

/// <summary>What an <see cref="Update"/> does to the consumer's picture.</summary>
public enum UpdateType : byte
{
    /// <summary>Not known.</summary>
    Unknown,

    /// <summary>A key the consumer does not hold.</summary>
    New,

    /// <summary>A new value for a key the consumer holds.</summary>
    Updated,

    /// <summary>A key the consumer holds is gone.</summary>
    Deleted,
}
