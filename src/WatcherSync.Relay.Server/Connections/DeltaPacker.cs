using Google.Protobuf;
using WatcherSync.Relay.Protocol;

namespace WatcherSync.Relay.Server;

/// <summary>
/// Packs log entries into the messages one client is sent: consecutive update batches merged into Deltas of about
/// <see cref="MaxDeltaBytes"/> (an entry's chunks are bounded by the feed, so a message is at most that plus one
/// chunk), an entry larger than that split over several (all but the last marked partial), and status changes as their
/// own messages. Only the chunks of the buckets the client wants are sent; the bytes are the feed's, shared.
/// </summary>
internal static class DeltaPacker
{
    public const int MaxDeltaBytes = 64 * 1024;

    /// <summary>
    /// Packs <paramref name="entries"/>, which follow <paramref name="cursor"/>. Each item is a message to send (null
    /// when entries the client does not want only move its cursor) with the sequence of the last entry wholly sent once
    /// it is, and whether it was split inside an entry.
    /// </summary>
    public static IEnumerable<Packed> Pack(List<LogEntry> entries, bool[] wanted, long cursor)
    {
        Deltas? deltas = null;
        int bytes = 0;
        long completed = cursor;
        long reported = cursor;

        // Whether the message being filled holds chunks of the entry being packed: one sent before that entry is
        // complete is marked partial, so that the client knows its picture holds part of an entry.
        bool holdsEntryPart = false;
        foreach (LogEntry entry in entries)
        {
            if (entry.IsStatus)
            {
                if (deltas is not null)
                {
                    yield return new Packed(new ServerMessage { Deltas = deltas }, completed, Split: false);
                    deltas = null;
                    bytes = 0;
                }

                completed = reported = entry.Sequence;
                yield return new Packed(new ServerMessage { Status = new StatusChange { Sequence = (ulong)entry.Sequence, Status = RelayProtocol.ToWire(entry.Status) } }, completed, Split: false);
                continue;
            }

            ByteString[]?[] batches = entry.Batches!;
            for (int bucket = 0; bucket < batches.Length; bucket++)
            {
                if (batches[bucket] is not { } chunks || !wanted[bucket])
                {
                    continue;
                }

                foreach (ByteString chunk in chunks)
                {
                    if (deltas is not null && bytes >= MaxDeltaBytes)
                    {
                        // Split inside this entry: the message completes only the entries before it.
                        deltas.Sequence = (ulong)completed;
                        deltas.Partial = holdsEntryPart;
                        reported = completed;
                        yield return new Packed(new ServerMessage { Deltas = deltas }, completed, Split: true);
                        deltas = null;
                        bytes = 0;
                    }

                    (deltas ??= new Deltas()).Batches.Add(chunk);
                    bytes += chunk.Length;
                    holdsEntryPart = true;
                }
            }

            completed = entry.Sequence;
            holdsEntryPart = false;
            if (deltas is not null)
            {
                deltas.Sequence = (ulong)completed;
                if (bytes >= MaxDeltaBytes)
                {
                    reported = completed;
                    yield return new Packed(new ServerMessage { Deltas = deltas }, completed, Split: false);
                    deltas = null;
                    bytes = 0;
                }
            }
        }

        if (deltas is not null)
        {
            yield return new Packed(new ServerMessage { Deltas = deltas }, completed, Split: false);
        }
        else if (completed > reported)
        {
            yield return new Packed(null, completed, Split: false);
        }
    }

    /// <summary>One message to send (or none), the client's cursor once it is sent, and whether it ends inside an entry.</summary>
    public readonly record struct Packed(ServerMessage? Message, long Completed, bool Split);
}
