namespace WatcherSync;

/// <summary>Turns raw datastore pairs into the pairs a syncer emits.</summary>
public interface ISyncerUpdateProcessor
{
    /// <summary>
    /// Processes one raw pair (a null value is a delete) into zero or more pairs (a null value is a delete).
    /// </summary>
    /// <exception cref="ValueParseException">The raw pair is malformed; the syncer reports it and goes on.</exception>
    IReadOnlyList<KVPair> Process(KVPair kv);

    /// <summary>Called before every full sync, so that the processor can drop state it derived earlier.</summary>
    void OnSyncerStarting();
}
