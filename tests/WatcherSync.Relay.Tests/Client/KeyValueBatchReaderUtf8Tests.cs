using FluentAssertions;
using Google.Protobuf;
using WatcherSync.Relay.Protocol;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// Keys and revisions that are not UTF-8: the generated parser refused them (a proto3 string must be valid UTF-8), so
/// the client dropped the connection; the hand-written reader must refuse them too, not read them as U+FFFD.
/// </summary>
public sealed class KeyValueBatchReaderUtf8Tests
{
    [Theory]
    [InlineData("key FF")]
    [InlineData("key overlong slash")]
    [InlineData("key encoded surrogate")]
    [InlineData("key truncated sequence")]
    [InlineData("revision FF")]
    public void AKeyOrRevisionThatIsNotUtf8_IsRefused_AsTheGeneratedParserRefusesIt(string how)
    {
        byte[] bytes = Batch(how);
        Action generated = () => KeyValueBatch.Parser.ParseFrom(bytes);
        generated.Should().Throw<InvalidProtocolBufferException>("the generated parser, which the client used before, refuses it");

        Action read = () => KeyValueBatchReader.Validate(bytes);

        read.Should().Throw<RelayProtocolException>($"the reader must refuse {Convert.ToHexString(bytes)} as the generated parser does");
    }

    [Fact]
    public void TwoKeysThatAreNotUtf8_AreNotMergedIntoOneKey_WithADigestOfNeither()
    {
        // Two different keys on the wire, the same string once their bad bytes are replaced by U+FFFD.
        byte[] bytes = [.. Item([0x2F, 0xFF], "1"u8, "x"u8), .. Item([0x2F, 0xFE], "1"u8, "y"u8)];
        var picture = new ClientPicture(path => new PathKey(path), RawBytesCodec.Instance, (_, _) => { });
        picture.BeginResync(new Welcome { HeadSequence = 1, LogId = "log", DatastoreEpoch = "#0" });
        var updates = new List<Update>();

        Action apply = () => picture.ApplySnapshotChunk(ByteString.CopyFrom(bytes), updates);

        apply.Should().Throw<RelayProtocolException>("a chunk the generated parser refused is a protocol error, and leaves the picture as it was");
        updates.Should().BeEmpty();
        picture.Count.Should().Be(0);
    }

    private static byte[] Batch(string how) => how switch
    {
        "key FF" => Item([0x2F, 0x61, 0xFF], "1"u8, "v"u8),
        "key overlong slash" => Item([0xC0, 0xAF, 0x61], "1"u8, "v"u8),
        "key encoded surrogate" => Item([0x2F, 0xED, 0xA0, 0x80], "1"u8, "v"u8),
        "key truncated sequence" => Item([0x2F, 0xE4, 0xB8], "1"u8, "v"u8),
        _ => Item("/a"u8.ToArray(), [0x31, 0xFF], "v"u8),
    };

    private static byte[] Item(byte[] key, ReadOnlySpan<byte> revision, ReadOnlySpan<byte> value)
    {
        byte[] item = [0x0A, (byte)key.Length, .. key, 0x12, (byte)value.Length, .. value, 0x1A, (byte)revision.Length, .. revision];
        return [0x0A, (byte)item.Length, .. item];
    }
}
