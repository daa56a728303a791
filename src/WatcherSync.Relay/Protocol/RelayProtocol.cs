namespace WatcherSync.Relay.Protocol;

/// <summary>Constants and conversions of the relay wire (Protos/relay.proto), shared by the client and the server.</summary>
internal static class RelayProtocol
{
    /// <summary>The protocol version this library speaks.</summary>
    public const uint Version = 1;

    /// <summary>The name of Brotli among a hello's accept_encodings and a chunk's encoding.</summary>
    public const string Brotli = "br";

    public static FeedStatus ToWire(SyncStatus status) => status switch
    {
        SyncStatus.WaitForDatastore => FeedStatus.WaitForDatastore,
        SyncStatus.ResyncInProgress => FeedStatus.ResyncInProgress,
        SyncStatus.InSync => FeedStatus.InSync,
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "Unknown sync status."),
    };

    /// <summary>Reads a status off the wire; null for a value this version does not know.</summary>
    public static SyncStatus? FromWire(FeedStatus status) => status switch
    {
        FeedStatus.WaitForDatastore => SyncStatus.WaitForDatastore,
        FeedStatus.ResyncInProgress => SyncStatus.ResyncInProgress,
        FeedStatus.InSync => SyncStatus.InSync,
        _ => null,
    };
}
