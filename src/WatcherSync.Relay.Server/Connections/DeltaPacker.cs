using Google.Protobuf;
using WatcherSync.Relay.Protocol;

namespace WatcherSync.Relay.Server;

/// <summary>
/// Packs log entries into the messages one client is sent: consecutive update batches merged into Deltas of about
/// <see cref="MaxDeltaBytes"/> (an entry's chunks are bounded by the feed, so a message is at most that plus one
/// chunk), an entry larger than that split over several (all but the last marked partial), and status changes as their
/// own messages. Only the chunks of the buckets the client wants are sent; the bytes are the feed's, shared. For a
/// client that accepts compression, each chunk is sent in its shared compressed form where that pays (marked in
/// <c>Deltas.encodings</c>), and messages are filled by the bytes sent.
/// </summary>
internal static class DeltaPacker
{
    public const int MaxDeltaBytes = 64 * 1024;

    /// <summary>
    /// Packs <paramref name="entries"/>, which follow <paramref name="cursor"/>. Each item is a message to send (null
    /// when entries the client does not want only move its cursor) with the sequence of the last entry wholly sent once
    /// it is, and whether it was split inside an entry.
    /// </summary>
    public static IEnumerable<Packed> Pack(List<LogEntry> entries, bool[] wanted, long cursor, RelayServerMetrics? compressFor = null)
    {
        Deltas? deltas = null;
        int bytes = 0;
        int plainBytes = 0;
        bool anyCompressed = false;
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
                    yield return new Packed(Finish(deltas, ref bytes, ref plainBytes, ref anyCompressed, compressFor), completed, Split: false);
                    deltas = null;
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

                for (int index = 0; index < chunks.Length; index++)
                {
                    if (deltas is not null && bytes >= MaxDeltaBytes)
                    {
                        // Split inside this entry: the message completes only the entries before it.
                        deltas.Sequence = (ulong)completed;
                        deltas.Partial = holdsEntryPart;
                        reported = completed;
                        yield return new Packed(Finish(deltas, ref bytes, ref plainBytes, ref anyCompressed, compressFor), completed, Split: true);
                        deltas = null;
                    }

                    deltas ??= new Deltas();
                    ByteString chunk = chunks[index];
                    plainBytes += chunk.Length;
                    if (compressFor is not null)
                    {
                        (chunk, bool compressed) = entry.Compressed!.Get(bucket, index, compressFor);
                        deltas.Encodings.Add(compressed ? ChunkCompressor.Encoding : string.Empty);
                        anyCompressed |= compressed;
                    }

                    deltas.Batches.Add(chunk);
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
                    yield return new Packed(Finish(deltas, ref bytes, ref plainBytes, ref anyCompressed, compressFor), completed, Split: false);
                    deltas = null;
                }
            }
        }

        if (deltas is not null)
        {
            yield return new Packed(Finish(deltas, ref bytes, ref plainBytes, ref anyCompressed, compressFor), completed, Split: false);
        }
        else if (completed > reported)
        {
            yield return new Packed(null, completed, Split: false);
        }
    }

    /// <summary>
    /// Closes a Deltas message: its encodings are left out when every batch is plain, and for a client that accepts
    /// compression, its batches' plain and sent sizes are counted. The counts restart for the next message.
    /// </summary>
    private static ServerMessage Finish(Deltas deltas, ref int bytes, ref int plainBytes, ref bool anyCompressed, RelayServerMetrics? compressFor)
    {
        if (compressFor is not null)
        {
            compressFor.Compression(plainBytes, bytes);
            if (!anyCompressed)
            {
                deltas.Encodings.Clear();
            }
        }

        bytes = 0;
        plainBytes = 0;
        anyCompressed = false;
        return new ServerMessage { Deltas = deltas };
    }

    /// <summary>One message to send (or none), the client's cursor once it is sent, and whether it ends inside an entry.</summary>
    public readonly record struct Packed(ServerMessage? Message, long Completed, bool Split);
}
