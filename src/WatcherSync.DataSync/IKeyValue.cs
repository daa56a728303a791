using System.Diagnostics.CodeAnalysis;

namespace WatcherSync.DataSync;

/// <summary>A key with its value as of a revision. The value is decoded only when asked for.</summary>
public interface IKeyValue
{
    /// <summary>Gets the key.</summary>
    string Key { get; }

    /// <summary>Gets the revision at which the value was written.</summary>
    string Revision { get; }

    /// <summary>Decodes the value as <typeparamref name="T"/>.</summary>
    /// <exception cref="ValueParseException">The stored value is not a valid <typeparamref name="T"/>.</exception>
    /// <exception cref="InvalidOperationException">There is no value (a deletion).</exception>
    T GetValue<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] T>();
}
