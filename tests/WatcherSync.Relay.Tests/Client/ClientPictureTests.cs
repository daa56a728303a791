using FluentAssertions;
using Google.Protobuf;
using WatcherSync.Relay.Protocol;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>The client's picture on its own: the position it would send, and the digest it keeps.</summary>
public sealed class ClientPictureTests
{
    [Fact]
    public void Position_AfterASnapshot_FollowsWholeDeltas_AndIsWithheldAfterAPartialOne()
    {
        ClientPicture picture = New();
        picture.Position().Should().BeNull("a picture that never had a snapshot cannot be placed");
        picture.BeginResync(Welcome(head: 3));
        picture.ApplySnapshotChunk(Batch(("/a", "1", "x")), []);
        picture.Position().Should().BeNull("the consumer holds part of a snapshot");
        picture.EndSnapshot(3, SyncStatus.InSync);
        picture.TryFinishResync([], out _, out _).Should().BeTrue();
        picture.Position()!.Sequence.Should().Be(3);

        picture.ApplyDeltas(new Deltas { Sequence = 3, Partial = true, Batches = { Batch(("/b", "4", "y")) } }, []);
        picture.Position().Should().BeNull("the consumer holds part of entry 4");
        picture.ApplyDeltas(new Deltas { Sequence = 4, Batches = { Batch(("/c", "4", "z")) } }, []);
        picture.Position()!.Sequence.Should().Be(4);
        picture.Position()!.Keys.Should().Be(3);
    }

    [Fact]
    public void Digest_IsThatOfThePictureHeld_WhateverTheOrderOfChanges()
    {
        ClientPicture one = Synced(Batch(("/a", "1", "x"), ("/b", "2", "y")));
        ClientPicture other = Synced(Batch(("/b", "2", "y")));
        other.ApplyDeltas(new Deltas { Sequence = 2, Batches = { Batch(("/a", "1", "old")), Batch(("/gone", "1", "q")) } }, []);
        other.ApplyDeltas(new Deltas { Sequence = 3, Batches = { Batch(("/a", "1", "x")), Deleted("/gone") } }, []);

        other.Position()!.Digest.Should().Equal(one.Position()!.Digest);
        other.Position()!.Keys.Should().Be(2);
        PictureDigest.FromBytes(one.Position()!.Digest).Should().Be(PictureDigest.Of("/a", "1", "x"u8) + PictureDigest.Of("/b", "2", "y"u8));
    }

    [Fact]
    public void KeysTheParserOrTheCodecRefuse_AreNotHeld_NorInTheDigest()
    {
        var failed = new List<string>();
        var picture = new ClientPicture(
            path => path == "/unparsable" ? null : new PathKey(path),
            new RefusingCodec(),
            (key, _) => failed.Add(key));
        picture.BeginResync(Welcome(head: 1));
        var updates = new List<Update>();
        picture.ApplySnapshotChunk(Batch(("/a", "1", "x"), ("/unparsable", "1", "y"), ("/b", "1", "bad")), updates);
        picture.EndSnapshot(1, SyncStatus.InSync);
        picture.TryFinishResync(updates, out _, out _).Should().BeTrue();

        updates.Select(u => u.KVPair.Key.DefaultPath).Should().Equal("/a");
        failed.Should().Equal("/b");
        picture.Count.Should().Be(1);
        picture.Position()!.Keys.Should().Be(1);
        PictureDigest.FromBytes(picture.Position()!.Digest).Should().Be(PictureDigest.Of("/a", "1", "x"u8));
    }

    private static ClientPicture Synced(ByteString snapshot)
    {
        ClientPicture picture = New();
        picture.BeginResync(Welcome(head: 1));
        picture.ApplySnapshotChunk(snapshot, []);
        picture.EndSnapshot(1, SyncStatus.InSync);
        picture.TryFinishResync([], out _, out _).Should().BeTrue();
        return picture;
    }

    private static ClientPicture New() => new(path => new PathKey(path), RawBytesCodec.Instance, (_, _) => { });

    private static Welcome Welcome(long head) => new() { HeadSequence = (ulong)head, LogId = "log", DatastoreEpoch = "#0" };

    private static ByteString Batch(params (string Key, string Revision, string Value)[] items)
    {
        var batch = new KeyValueBatch();
        foreach ((string key, string revision, string value) in items)
        {
            batch.Items.Add(new KeyValue { Key = key, Revision = revision, Value = ByteString.CopyFromUtf8(value) });
        }

        return batch.ToByteString();
    }

    private sealed class RefusingCodec : IValueCodec
    {
        public object Decode(string key, ReadOnlyMemory<byte> data) =>
            data.Span.SequenceEqual("bad"u8) ? throw new ValueParseException(key, "bad", "refused") : data.ToArray();

        public byte[] Encode(object value) => (byte[])value;
    }

    private static ByteString Deleted(string key) => new KeyValueBatch { Items = { new KeyValue { Key = key, Deleted = true } } }.ToByteString();
}
