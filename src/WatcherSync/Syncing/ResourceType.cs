namespace WatcherSync;

/// <summary>One kind of resource a syncer lists and watches.</summary>
/// <param name="ListInterface">Which keys the resource covers.</param>
/// <param name="UpdateProcessor">Optional processor turning each raw pair into zero or more pairs.</param>
public sealed record ResourceType(IListOptions ListInterface, ISyncerUpdateProcessor? UpdateProcessor = null)
{
    /// <summary>Gets which keys the resource covers.</summary>
    public IListOptions ListInterface { get; init; } = ListInterface ?? throw new ArgumentNullException(nameof(ListInterface));
}
