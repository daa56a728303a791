using Microsoft.Extensions.Logging;

namespace WatcherSync;

public sealed partial class DedupeBuffer
{
    /// <summary>The buffer's log messages; event ids 2000-2099 belong to the dedupe buffer.</summary>
    private static partial class Log
    {
        [LoggerMessage(EventId = 2000, EventName = "DedupeSinkFailed", Level = LogLevel.Error,
            Message = "The dedupe buffer's sink threw; SendToSinkForeverAsync ends with the exception")]
        public static partial void SinkFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 2001, EventName = "DedupeConnectionRestarted", Level = LogLevel.Debug,
            Message = "Upstream connection restarted; {DiscardedUpdates} queued updates discarded, and keys the sink holds that are not seen again before the next InSync will be deleted")]
        public static partial void ConnectionRestarted(ILogger logger, int discardedUpdates);

        [LoggerMessage(EventId = 2002, EventName = "DedupeResyncFinished", Level = LogLevel.Information,
            Message = "Resync finished; {DeletedKeys} keys not seen again are deleted")]
        public static partial void ResyncFinished(ILogger logger, int deletedKeys);

        [LoggerMessage(EventId = 2003, EventName = "DedupeKeyMapShrunk", Level = LogLevel.Debug,
            Message = "Key map shrunk after a backlog drained: {PeakKeys} keys at the peak, {LiveKeys} now")]
        public static partial void KeyMapShrunk(ILogger logger, int peakKeys, int liveKeys);

        [LoggerMessage(EventId = 2004, EventName = "DedupeStopped", Level = LogLevel.Debug,
            Message = "Dedupe buffer stopped with {QueueLength} items still queued")]
        public static partial void Stopped(ILogger logger, int queueLength);

        [LoggerMessage(EventId = 2005, EventName = "DedupeCompleted", Level = LogLevel.Debug,
            Message = "Dedupe buffer completed; {QueueLength} items queued will still be handed to the sink")]
        public static partial void Completed(ILogger logger, int queueLength);
    }
}
