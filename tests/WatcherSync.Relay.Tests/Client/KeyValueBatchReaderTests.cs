using System.Globalization;
using System.Text;
using FluentAssertions;
using Google.Protobuf;
using WatcherSync.Relay.Protocol;
using Xunit;

namespace WatcherSync.Relay.Tests;

/// <summary>
/// The client's reader of encoded key-value batches on its own: it must read exactly what the generated parser reads
/// (unknown fields, any order, the last of a repeated field), refuse what it refuses, and hash the wire bytes as the
/// relay hashes the strings.
/// </summary>
public sealed class KeyValueBatchReaderTests
{
    [Fact]
    public void ReadsWhatTheGeneratedParserReads_UnknownFieldsAndAnyOrderIncluded()
    {
        var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        WriteItem(output, item =>
        {
            item.WriteTag(3, WireFormat.WireType.LengthDelimited);
            item.WriteString("41");
            item.WriteTag(9, WireFormat.WireType.Varint); // unknown to this version
            item.WriteUInt64(300);
            item.WriteTag(1, WireFormat.WireType.LengthDelimited);
            item.WriteString("/first/ключ");
            item.WriteTag(10, WireFormat.WireType.Fixed64);
            item.WriteFixed64(7);
            item.WriteTag(2, WireFormat.WireType.LengthDelimited);
            item.WriteBytes(ByteString.CopyFromUtf8("value"));
            item.WriteTag(11, WireFormat.WireType.Fixed32);
            item.WriteFixed32(7);
            item.WriteTag(1, WireFormat.WireType.LengthDelimited); // repeated: the last wins
            item.WriteString("/second");
        });
        output.WriteTag(7, WireFormat.WireType.LengthDelimited); // an unknown field of the batch itself
        output.WriteString("ignored");
        WriteItem(output, item =>
        {
            item.WriteTag(1, WireFormat.WireType.LengthDelimited);
            item.WriteString("/gone");
            item.WriteTag(4, WireFormat.WireType.Varint);
            item.WriteBool(true);
        });
        WriteItem(output, _ => { });
        output.Flush();
        byte[] bytes = stream.ToArray();

        // The generated parser keeps unknown fields aside; the fields themselves must be the same.
        List<(string, string, string, bool)> expected = [.. KeyValueBatch.Parser.ParseFrom(bytes).Items.Select(i => (i.Key, i.Value.ToBase64(), i.Revision, i.Deleted))];
        var read = new List<(string Key, string Value, string Revision, bool Deleted)>();
        var reader = new KeyValueBatchReader(bytes);
        while (reader.TryRead(out KeyValueView item))
        {
            read.Add((Encoding.UTF8.GetString(item.Key.Span), Convert.ToBase64String(item.Value.Span), Encoding.UTF8.GetString(item.Revision.Span), item.Deleted));
        }

        read.Should().Equal(expected);
        read.Select(i => i.Key).Should().Equal("/second", "/gone", string.Empty);
        KeyValueBatchReader.Validate(bytes).Should().Be(3);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("length past the end")]
    [InlineData("group wire type")]
    [InlineData("field 0")]
    public void AMalformedBatch_IsAProtocolError(string how)
    {
        byte[] good = new KeyValueBatch { Items = { new KeyValue { Key = "/a", Value = ByteString.CopyFromUtf8("x"), Revision = "1" } } }.ToByteArray();
        byte[] bad = how switch
        {
            "truncated" => good[..^1],
            "length past the end" => [0x0A, 0x05, 0x0A, 0x01],
            "group wire type" => [0x0B],
            _ => [0x02],
        };

        Action validate = () => KeyValueBatchReader.Validate(bad);

        validate.Should().Throw<RelayProtocolException>();
    }

    [Fact]
    public void AChunkMalformedAfterAGoodItem_LeavesThePictureAsItWas()
    {
        byte[] good = new KeyValueBatch { Items = { new KeyValue { Key = "/a", Value = ByteString.CopyFromUtf8("x"), Revision = "1" } } }.ToByteArray();
        byte[] bad = [.. good, .. good[..^1]];
        var picture = new ClientPicture(path => new PathKey(path), RawBytesCodec.Instance, (_, _) => { });
        picture.BeginResync(new Welcome { HeadSequence = 1, LogId = "log", DatastoreEpoch = "#0" });
        var updates = new List<Update>();

        Action apply = () => picture.ApplySnapshotChunk(ByteString.CopyFrom(bad), updates);

        apply.Should().Throw<RelayProtocolException>();
        picture.Count.Should().Be(0, "nothing of a refused chunk is applied, since the consumer is never told of it");
        updates.Should().BeEmpty();
    }

    [Theory]
    [InlineData("")]
    [InlineData("12")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1a")]
    [InlineData("9223372036854775807")]
    [InlineData("9223372036854775808")]
    [InlineData("99999999999999999999")]
    public void NumericRevision_ReadsAsTheClientReadsRevisionText(string revision)
    {
        var item = new KeyValueView { Revision = Encoding.UTF8.GetBytes(revision) };
        long expected = long.TryParse(revision, NumberStyles.None, CultureInfo.InvariantCulture, out long value) ? value : 0;

        item.NumericRevision.Should().Be(expected);
    }

    [Theory]
    [InlineData("/a", "1")]
    [InlineData("/ключ/键", "ревизия")]
    [InlineData("", "")]
    [InlineData(null, "12345")]
    public void TheDigestOfWireBytes_IsTheDigestOfTheirStrings(string? key, string revision)
    {
        key ??= "/" + new string('k', 700); // past the stack buffer
        byte[] value = Encoding.UTF8.GetBytes("some value");

        PictureDigest.Of(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(revision), value).Should().Be(PictureDigest.Of(key, revision, value));
    }

    private static void WriteItem(CodedOutputStream output, Action<CodedOutputStream> write)
    {
        var stream = new MemoryStream();
        var item = new CodedOutputStream(stream);
        write(item);
        item.Flush();
        output.WriteTag(1, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(stream.ToArray()));
    }
}
