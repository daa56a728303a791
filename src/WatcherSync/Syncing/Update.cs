namespace WatcherSync;

/// <summary>One change to the consumer's picture.</summary>
/// <param name="KVPair">The pair; its value is null for <see cref="UpdateType.Deleted"/>.</param>
/// <param name="UpdateType">What the change does.</param>
public readonly record struct Update(KVPair KVPair, UpdateType UpdateType);
