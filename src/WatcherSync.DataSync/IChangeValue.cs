using System.Diagnostics.CodeAnalysis;

namespace WatcherSync.DataSync;

/// <summary>One change to a key, with the value it had before when the subscriber's picture held it.</summary>
public interface IChangeValue : IKeyValue
{
    /// <summary>Gets what happened to the key.</summary>
    ChangeType ChangeType { get; }

    /// <summary>Gets the revision of the previous value, or null when there was none.</summary>
    string? PrevRevision { get; }

    /// <summary>Decodes the previous value as <typeparamref name="T"/>; returns false when there was none.</summary>
    /// <exception cref="ValueParseException">The previous value is not a valid <typeparamref name="T"/>.</exception>
    bool TryGetPrevValue<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>(out T? value);
}
