using Google.Protobuf;
using Microsoft.Extensions.Logging;
using WatcherSync.Relay.Protocol;

namespace WatcherSync.Relay.Server;

/// <summary>
/// Encodes a batch of a feed's syncer updates once, outside the feed's lock: each value with the feed's codec (refusing
/// what cannot be sent), each key hashed for the picture's digest, and the whole batch packed into bounded chunks per
/// prefix bucket, shared by every client. Called from the syncer's one thread; <see cref="Refused"/> from any.
/// </summary>
internal sealed class UpdateEncoder(string feed, IValueCodec codec, int maxValueBytes, int buckets, int chunkBytes, Func<string, int> bucketOf, ILogger logger)
{
    private int _refused;

    /// <summary>Gets how many values were refused: larger than MaxValueBytes, or not encodable.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>Encodes <paramref name="updates"/>; null when there are none.</summary>
    public Batch? Encode(IReadOnlyList<Update> updates)
    {
        var encoder = new ChunkEncoder(buckets, chunkBytes);
        var changes = new List<(string Key, KeyValue Message, int Bucket, UInt128 Hash)>(updates.Count);
        long revision = 0;
        foreach (Update update in updates)
        {
            KVPair kv = update.KVPair;
            string key = kv.Key.DefaultPath;
            int bucket = bucketOf(key);
            KeyValue message = kv.Value is null || update.UpdateType == UpdateType.Deleted
                ? new KeyValue { Key = key, Revision = kv.Revision ?? string.Empty, Deleted = true }
                : EncodeOrRefuse(key, kv);

            // Only present values count towards the feed's revision: a relay that lists afresh never sees a delete's
            // revision, and must not look behind a relay that did.
            if (!message.Deleted)
            {
                revision = Math.Max(revision, FeedPicture.NumericRevision(kv.Revision));
            }

            encoder.Add(bucket, message);
            changes.Add((key, message, bucket, message.Deleted ? UInt128.Zero : PictureDigest.Of(key, message.Revision, message.Value.Span)));
        }

        return changes.Count == 0 ? null : new Batch(changes, encoder.Finish(), encoder.Bytes, revision);
    }

    /// <summary>
    /// Encodes a present value. One the codec cannot encode, or larger than MaxValueBytes, is refused here, once, with
    /// an error naming the key: clients hear the key deleted, since they must not keep a value the datastore no
    /// longer has, and no message can grow past the bound.
    /// </summary>
    private KeyValue EncodeOrRefuse(string key, KVPair kv)
    {
        byte[] bytes;
        try
        {
            bytes = codec.Encode(kv.Value!);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or NotSupportedException or FormatException or System.Text.Json.JsonException)
        {
            RelayServerLog.EncodeFailed(logger, feed, key, ex);
            Interlocked.Increment(ref _refused);
            return new KeyValue { Key = key, Revision = kv.Revision ?? string.Empty, Deleted = true };
        }

        if (bytes.Length > maxValueBytes)
        {
            RelayServerLog.ValueTooLarge(logger, feed, key, bytes.Length, maxValueBytes);
            Interlocked.Increment(ref _refused);
            return new KeyValue { Key = key, Revision = kv.Revision ?? string.Empty, Deleted = true };
        }

        // The codec's bytes are never mutated after this (values handed out by WatcherSync are immutable), so they are
        // wrapped rather than copied.
        return new KeyValue { Key = key, Revision = kv.Revision ?? string.Empty, Value = UnsafeByteOperations.UnsafeWrap(bytes) };
    }

    /// <summary>An encoded batch: each change (key, message, bucket, hash), the chunks per bucket, their size, and the highest revision among its present values.</summary>
    public sealed record Batch(List<(string Key, KeyValue Message, int Bucket, UInt128 Hash)> Changes, ByteString[]?[] Chunks, long Bytes, long Revision);
}
