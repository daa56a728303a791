namespace WatcherSync.Relay;

/// <summary>A relay broke the wire protocol (a message out of order, a status this version does not know).</summary>
internal sealed class RelayProtocolException(string message) : Exception(message);
